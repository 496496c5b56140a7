/**
 * Index declarations. Each repository exports the indexes its queries need, next to those queries;
 * ensureIndexes creates them all at start, and a failure is fatal.
 */
import type { CreateIndexesOptions, Db, Document, IndexSpecification } from "mongodb";

/** IndexDeclaration is one index of one collection, always with an explicit name. */
export interface IndexDeclaration {
  readonly collection: string;
  readonly key: IndexSpecification;
  readonly options: CreateIndexesOptions & { readonly name: string };
  /** why says which query the index serves (documentation, and the error message on failure). */
  readonly why: string;
}

/**
 * ensureIndexes creates every declared index, failing with a message naming the one that failed. An index
 * that already exists exactly as declared (same name, key and options) is left alone without a createIndex:
 * on MongoDB that command would be a no-op anyway, while the in-memory wire server rebuilds the index by
 * scanning the whole collection, which made a start on a large development database take tens of seconds.
 * One listIndexes per collection; anything that differs still goes through createIndex (and fails there as
 * before when an existing index has other options).
 */
export async function ensureIndexes(db: Db, declarations: readonly IndexDeclaration[]): Promise<void> {
  const existing = new Map<string, readonly Document[]>();
  for (const declaration of declarations) {
    try {
      let indexes = existing.get(declaration.collection);
      if (indexes === undefined) {
        indexes = await listIndexes(db, declaration.collection);
        existing.set(declaration.collection, indexes);
      }
      if (indexes.some((index) => sameIndex(index, declaration))) {
        continue;
      }
      await db.collection(declaration.collection).createIndex(declaration.key, { ...declaration.options });
    } catch (cause) {
      throw new Error(
        `cannot create index ${declaration.collection}.${declaration.options.name} (${declaration.why})`,
        { cause },
      );
    }
  }
}

/** listIndexes lists a collection's indexes; a collection that does not exist yet has none. */
async function listIndexes(db: Db, collection: string): Promise<readonly Document[]> {
  try {
    return await db.collection(collection).listIndexes().toArray();
  } catch (error) {
    if ((error as { codeName?: string }).codeName === "NamespaceNotFound") {
      return [];
    }
    throw error;
  }
}

/** The index options that make two indexes of the same key different. */
const COMPARED_OPTIONS = ["unique", "sparse", "expireAfterSeconds", "partialFilterExpression"] as const;

/** sameIndex tells whether a listed index is exactly the declared one (name, key in order, options). */
function sameIndex(listed: Document, declaration: IndexDeclaration): boolean {
  if (listed.name !== declaration.options.name) {
    return false;
  }
  if (JSON.stringify(Object.entries(listed.key ?? {})) !== JSON.stringify(Object.entries(declaration.key))) {
    return false;
  }
  return COMPARED_OPTIONS.every((option) => {
    const declared: unknown = declaration.options[option];
    const found = listed[option];
    // unique: false and sparse: false are the defaults a listing leaves out.
    const normal = (value: unknown) => (value === false ? undefined : value);
    return JSON.stringify(normal(declared)) === JSON.stringify(normal(found));
  });
}

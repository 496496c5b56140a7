/** Index declarations: each repository declares the indexes its queries need; ensureIndexes creates them at start. */
import type { CreateIndexesOptions, Db, Document, IndexSpecification } from "mongodb";

export interface IndexDeclaration {
  readonly collection: string;
  readonly key: IndexSpecification;
  readonly options: CreateIndexesOptions & { readonly name: string };
  /** why says which query the index serves (documentation, and the error message on failure). */
  readonly why: string;
}

export function indexesOf(
  collection: string,
  indexes: readonly Omit<IndexDeclaration, "collection">[],
): IndexDeclaration[] {
  return indexes.map((index) => ({ collection, ...index }));
}

/**
 * ensureIndexes creates every declared index, failing with a message naming the one that failed. An index that
 * exists exactly as declared is left alone: the in-memory wire server rebuilds an index on every createIndex.
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

const COMPARED_OPTIONS = ["unique", "sparse", "expireAfterSeconds", "partialFilterExpression"] as const;

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

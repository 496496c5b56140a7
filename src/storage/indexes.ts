/**
 * Index declarations. Each repository exports the indexes its queries need, next to those queries;
 * ensureIndexes creates them all at start, and a failure is fatal.
 */
import type { CreateIndexesOptions, Db, IndexSpecification } from "mongodb";

/** IndexDeclaration is one index of one collection, always with an explicit name. */
export interface IndexDeclaration {
  readonly collection: string;
  readonly key: IndexSpecification;
  readonly options: CreateIndexesOptions & { readonly name: string };
  /** why says which query the index serves (documentation, and the error message on failure). */
  readonly why: string;
}

/** ensureIndexes creates every declared index, failing with a message naming the one that failed. */
export async function ensureIndexes(db: Db, declarations: readonly IndexDeclaration[]): Promise<void> {
  for (const declaration of declarations) {
    try {
      await db.collection(declaration.collection).createIndex(declaration.key, { ...declaration.options });
    } catch (cause) {
      throw new Error(
        `cannot create index ${declaration.collection}.${declaration.options.name} (${declaration.why})`,
        { cause },
      );
    }
  }
}

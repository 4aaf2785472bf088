/**
 * The list's `search` parameter: the original's semantics (DRF SearchFilter with `icontains` on name and
 * description) served by the trigram FTS5 index `products_fts`.
 *
 * Terms are split on whitespace and commas, with quoted phrases kept together; every term must occur, case-
 * insensitively, in the name or the description. Each term of three or more characters becomes one FTS5 string
 * (`"..."`, inner quotes doubled), so FTS5 syntax typed by a user (`*`, `NEAR`, `-`, parentheses, column filters)
 * is inert text. Trigrams cannot index one- and two-character terms; those are checked with LIKE on the rows the
 * other filters (and the long terms' MATCH, when there is one) already narrowed down. A search made only of such
 * short terms therefore scans the otherwise-filtered products: a documented trade-off for rare two-letter queries.
 */

/** Most terms one search may have; keeps every statement well under D1's 100 bound parameters. */
export const MAX_SEARCH_TERMS = 10;
const TRIGRAM = 3;

/** DRF's search_smart_split: whitespace and commas separate terms, `"quoted phrases"` stay together. */
export function searchTerms(search: string): string[] {
  const terms: string[] = [];
  for (const match of search.replaceAll("\0", "").matchAll(/"([^"]*)"|'([^']*)'|[^\s,]+/g)) {
    const term = (match[1] ?? match[2] ?? match[0]).trim();
    if (term) terms.push(term);
  }
  return terms;
}

export interface SearchPlan {
  /** FTS5 query for the indexable terms, or null when every term is too short for trigrams. */
  match: string | null;
  /** LIKE patterns (escape character `\`) for the terms the index cannot serve. */
  likePatterns: string[];
}

const ftsString = (term: string) => `"${term.replaceAll('"', '""')}"`;
const likePattern = (term: string) => `%${term.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

export function searchPlan(terms: readonly string[]): SearchPlan {
  const long = terms.filter((term) => [...term].length >= TRIGRAM);
  const short = terms.filter((term) => [...term].length < TRIGRAM);
  return { match: long.length ? long.map(ftsString).join(" AND ") : null, likePatterns: short.map(likePattern) };
}

// Preloaded into Portman's process (node --import): a seeded Math.random, so the example values the converter makes
// up (json-schema-faker) are the same on every run and regenerating an unchanged document rewrites nothing.
let state = 29;
Math.random = () => {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

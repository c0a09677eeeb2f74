// index.ts — zkts/recipes: coordination recipes on zkts/client (locks, semaphores, elections,
// barriers, queues, counters, caches), each with its guarantee stated where it is defined.
export {};

"""Change tracking: what each answer read, and who must know when it changes.

- `reads.ReadRecorder`: one request's view of a store; counts its reads and records what they asked.
- `reads.BatchRecorder`: the view of pieces built together; files what each workload alone asked apart.
- `dependents.Dependents`: those records indexed the other way round: which holders a change concerns.
- `memory.Remembered`: values kept while nothing they read changed, bounded by bytes (index included).
- `answers.Answers`: whole answers, recalled while the caller's access still holds.
- `pieces.PieceMemory`: pieces of answers (a workload's part of an application graph), built together.
- `streams.Subscriptions`: live streams, their caps, and which a change wakes.

All of them hear of changes from one place, the store's `ChangeFeed` (`gateway.store.feed`). No
Flask here: the HTTP layer (`gateway.api`) keeps ETags, 304s, SSE framing and routes.
"""

/// Moving a running job between nodes with CRIU, its state intact: iterative pre-copy while
/// it runs, a short freeze for the final dump, transfer of the images and the job's files over
/// the agents' secure stream, restore on the destination, and removal on the source only
/// after the destination confirms. See Docs/migration.md.
public enum Migration {}

/// Namespace for the in-process squashfs writer built on libsquashfs.
public enum Squashfs {}

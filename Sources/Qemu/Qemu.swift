public enum Qemu {}

import CGuestfs
import Logging
import Qemu
#if canImport(Glibc)
import Glibc
#endif

/// A libguestfs handle: a small appliance VM that partitions, formats and reads disk images as
/// an ordinary user, with no loop devices and no root. One handle, one thread: not Sendable.
///
/// Thin by design: each method is one libguestfs call, with its C error turned into
/// ``Guestfs/Error`` naming the call. Device names are the appliance's (`/dev/sda`, ...).
public final class Guestfs {
    /// A libguestfs call that failed, with libguestfs's own message.
    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public var call: String
        public var message: String

        public var description: String { "libguestfs \(call): \(message)" }
    }

    /// One GPT partition as `part_list` reports it, in bytes.
    public struct Partition: Sendable, Equatable {
        public var number: Int
        public var start: UInt64
        public var size: UInt64
    }

    /// How the appliance runs. `forceTCG` makes QEMU emulate the CPU: needed where /dev/kvm
    /// exists but does not work (nested KVM), where libguestfs would pick KVM and abort.
    public struct Backend: Sendable, Equatable {
        public var forceTCG: Bool
        public var memoryMiB: Int?

        public init(forceTCG: Bool, memoryMiB: Int? = nil) {
            self.forceTCG = forceTCG
            self.memoryMiB = memoryMiB
        }

        /// What works on this host: KVM where a kernel boots under it, TCG otherwise
        /// (``Qemu/Accelerator/probe(qemu:environment:timeout:logger:)``, cached per process).
        public static func forThisHost(logger: Logger) -> Backend {
            Backend(forceTCG: Qemu.Accelerator.probe(logger: logger) != .kvm)
        }
    }

    private let handle: OpaquePointer

    /// A new handle (not launched). With `backend.forceTCG`, the `direct` backend with
    /// `force_tcg`, unless the user set `LIBGUESTFS_BACKEND_SETTINGS` (theirs wins).
    public init(backend: Backend, environment: [String: String]) throws(Guestfs.Error) {
        guard let handle = guestfs_create() else {
            throw Error(call: "create", message: "cannot create a handle (out of memory, or libguestfs is broken)")
        }
        self.handle = handle
        // Errors come back through guestfs_last_error, not printed on stderr.
        guestfs_set_error_handler(handle, nil, nil)
        if backend.forceTCG && environment["LIBGUESTFS_BACKEND_SETTINGS"] == nil {
            if environment["LIBGUESTFS_BACKEND"] == nil {
                try check("set_backend", guestfs_set_backend(handle, "direct"))
            }
            try withCStrings(["force_tcg"]) { settings throws(Guestfs.Error) in
                try check("set_backend_settings", guestfs_set_backend_settings(handle, settings))
            }
        }
        if let memory = backend.memoryMiB {
            try check("set_memsize", guestfs_set_memsize(handle, Int32(memory)))
        }
    }

    deinit {
        guestfs_close(handle)
    }

    // MARK: drives and the appliance

    /// Creates an empty disk image file of `size` bytes (sparse; a qcow2 grows as it is
    /// written, so its file size is what it holds).
    public func createDisk(_ path: String, format: String, size: UInt64) throws(Guestfs.Error) {
        var options = guestfs_disk_create_argv()
        try check("disk_create", guestfs_disk_create_argv(handle, path, format, Int64(size), &options))
    }

    /// Adds a disk image; the first is `/dev/sda`, the next `/dev/sdb`, ...
    public func addDrive(_ path: String, format: String, readOnly: Bool = false) throws(Guestfs.Error) {
        try withCString(format) { format throws(Guestfs.Error) in
            var options = guestfs_add_drive_opts_argv()
            options.bitmask = lb_add_drive_format | lb_add_drive_readonly
            options.format = format
            options.readonly = readOnly ? 1 : 0
            try check("add_drive", guestfs_add_drive_opts_argv(handle, path, &options))
        }
    }

    /// Starts the appliance.
    public func launch() throws(Guestfs.Error) {
        try check("launch", guestfs_launch(handle))
    }

    /// Unmounts everything, syncs and stops the appliance; writes are on disk afterwards.
    public func shutdown() throws(Guestfs.Error) {
        try check("shutdown", guestfs_shutdown(handle))
    }

    // MARK: partitions

    public func partInit(_ device: String, type: String) throws(Guestfs.Error) {
        try check("part_init", guestfs_part_init(handle, device, type))
    }

    /// A primary partition from sector `start` to sector `end` (inclusive, 512-byte sectors).
    public func partAdd(_ device: String, start: Int64, end: Int64) throws(Guestfs.Error) {
        try check("part_add", guestfs_part_add(handle, device, "p", start, end))
    }

    public func partSetGPTType(_ device: String, partition: Int, guid: String) throws(Guestfs.Error) {
        try check("part_set_gpt_type", guestfs_part_set_gpt_type(handle, device, Int32(partition), guid))
    }

    public func partSetName(_ device: String, partition: Int, name: String) throws(Guestfs.Error) {
        try check("part_set_name", guestfs_part_set_name(handle, device, Int32(partition), name))
    }

    public func partSetGPTAttributes(_ device: String, partition: Int, attributes: UInt64) throws(Guestfs.Error) {
        try check("part_set_gpt_attributes", guestfs_part_set_gpt_attributes(handle, device, Int32(partition), Int64(bitPattern: attributes)))
    }

    public func partGetGPTType(_ device: String, partition: Int) throws(Guestfs.Error) -> String {
        try string("part_get_gpt_type", guestfs_part_get_gpt_type(handle, device, Int32(partition)))
    }

    public func partGetName(_ device: String, partition: Int) throws(Guestfs.Error) -> String {
        try string("part_get_name", guestfs_part_get_name(handle, device, Int32(partition)))
    }

    public func partGetGPTAttributes(_ device: String, partition: Int) throws(Guestfs.Error) -> UInt64 {
        let value = guestfs_part_get_gpt_attributes(handle, device, Int32(partition))
        if value == -1 { throw lastError("part_get_gpt_attributes") }
        return UInt64(bitPattern: value)
    }

    public func partList(_ device: String) throws(Guestfs.Error) -> [Partition] {
        guard let list = guestfs_part_list(handle, device) else { throw lastError("part_list") }
        defer { guestfs_free_partition_list(list) }
        return (0..<Int(list.pointee.len)).map { index in
            let entry = list.pointee.val[index]
            return Partition(number: Int(entry.part_num), start: entry.part_start, size: entry.part_size)
        }
    }

    /// The devices' partitions (`/dev/sda1`, ...).
    public func listPartitions() throws(Guestfs.Error) -> [String] {
        try strings("list_partitions", guestfs_list_partitions(handle))
    }

    public func blockDeviceSize(_ device: String) throws(Guestfs.Error) -> UInt64 {
        let size = guestfs_blockdev_getsize64(handle, device)
        if size < 0 { throw lastError("blockdev_getsize64") }
        return UInt64(size)
    }

    /// Writes `bytes` at `offset` on a device (the protective MBR's boot code, say).
    public func pwriteDevice(_ device: String, bytes: [UInt8], offset: Int64) throws(Guestfs.Error) {
        let written = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                guestfs_pwrite_device(handle, device, pointer, buffer.count, offset)
            }
        }
        if written < 0 { throw lastError("pwrite_device") }
        guard written == bytes.count else {
            throw Error(call: "pwrite_device", message: "wrote \(written) of \(bytes.count) bytes to \(device)")
        }
    }

    /// `count` bytes of a device from `offset` (at most 2 MB, libguestfs's message limit).
    public func preadDevice(_ device: String, count: Int, offset: Int64) throws(Guestfs.Error) -> [UInt8] {
        var size = 0
        guard let bytes = guestfs_pread_device(handle, device, Int32(count), offset, &size) else { throw lastError("pread_device") }
        defer { free(bytes) }
        return bytes.withMemoryRebound(to: UInt8.self, capacity: size) { Array(UnsafeBufferPointer(start: $0, count: size)) }
    }

    /// Copies `size` bytes of a file or device in the appliance, from `offset`, to the host
    /// file `destination`.
    public func downloadOffset(_ source: String, to destination: String, offset: Int64, size: UInt64) throws(Guestfs.Error) {
        try check("download_offset", guestfs_download_offset(handle, source, destination, offset, Int64(size)))
    }

    /// Copies `size` bytes from the start of `source` to the start of `destination`, inside
    /// the appliance: the data never passes through this process.
    public func copyDevice(_ source: String, to destination: String, size: UInt64) throws(Guestfs.Error) {
        var options = guestfs_copy_device_to_device_argv()
        options.bitmask = lb_copy_size
        options.size = Int64(size)
        try check("copy_device_to_device", guestfs_copy_device_to_device_argv(handle, source, destination, &options))
    }

    // MARK: filesystems

    public func mkfs(_ type: String, device: String, label: String? = nil) throws(Guestfs.Error) {
        var options = guestfs_mkfs_opts_argv()
        guard let label else {
            try check("mkfs", guestfs_mkfs_opts_argv(handle, type, device, &options))
            return
        }
        try withCString(label) { label throws(Guestfs.Error) in
            options.bitmask = lb_mkfs_label
            options.label = label
            try check("mkfs", guestfs_mkfs_opts_argv(handle, type, device, &options))
        }
    }

    public func vfsType(_ device: String) throws(Guestfs.Error) -> String {
        try string("vfs_type", guestfs_vfs_type(handle, device))
    }

    public func vfsLabel(_ device: String) throws(Guestfs.Error) -> String {
        try string("vfs_label", guestfs_vfs_label(handle, device))
    }

    public func mount(_ device: String, at mountpoint: String, readOnly: Bool = false) throws(Guestfs.Error) {
        if readOnly {
            try check("mount_ro", guestfs_mount_ro(handle, device, mountpoint))
        } else {
            try check("mount", guestfs_mount(handle, device, mountpoint))
        }
    }

    public func unmountAll() throws(Guestfs.Error) {
        try check("umount_all", guestfs_umount_all(handle))
    }

    public func mkdirP(_ path: String) throws(Guestfs.Error) {
        try check("mkdir_p", guestfs_mkdir_p(handle, path))
    }

    /// Copies the host file `source` to `destination` in the mounted filesystems.
    public func upload(_ source: String, to destination: String) throws(Guestfs.Error) {
        try check("upload", guestfs_upload(handle, source, destination))
    }

    /// The file's bytes (small files: libguestfs caps a message at 4 MB).
    public func readFile(_ path: String) throws(Guestfs.Error) -> [UInt8] {
        var size = 0
        guard let bytes = guestfs_read_file(handle, path, &size) else { throw lastError("read_file") }
        defer { free(bytes) }
        return bytes.withMemoryRebound(to: UInt8.self, capacity: size) { Array(UnsafeBufferPointer(start: $0, count: size)) }
    }

    public func fileSize(_ path: String) throws(Guestfs.Error) -> UInt64 {
        let size = guestfs_filesize(handle, path)
        if size < 0 { throw lastError("filesize") }
        return UInt64(size)
    }

    public func ls(_ directory: String) throws(Guestfs.Error) -> [String] {
        try strings("ls", guestfs_ls(handle, directory))
    }

    /// Installs syslinux's boot sector and ldlinux.sys on a FAT `device`, its files in
    /// `directory` of that filesystem (unmounted).
    public func syslinux(_ device: String, directory: String) throws(Guestfs.Error) {
        try withCString(directory) { directory throws(Guestfs.Error) in
            var options = guestfs_syslinux_argv()
            options.bitmask = lb_syslinux_directory
            options.directory = directory
            try check("syslinux", guestfs_syslinux_argv(handle, device, &options))
        }
    }

    // MARK: plumbing

    private func lastError(_ call: String) -> Guestfs.Error {
        Error(call: call, message: guestfs_last_error(handle).map { String(cString: $0) } ?? "failed (no message)")
    }

    private func check(_ call: String, _ result: Int32) throws(Guestfs.Error) {
        if result == -1 { throw lastError(call) }
    }

    private func string(_ call: String, _ result: UnsafeMutablePointer<CChar>?) throws(Guestfs.Error) -> String {
        guard let result else { throw lastError(call) }
        defer { free(result) }
        return String(cString: result)
    }

    private func strings(_ call: String, _ result: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) throws(Guestfs.Error) -> [String] {
        guard let result else { throw lastError(call) }
        defer {
            var index = 0
            while let item = result[index] {
                free(item)
                index += 1
            }
            free(result)
        }
        var values: [String] = []
        var index = 0
        while let item = result[index] {
            values.append(String(cString: item))
            index += 1
        }
        return values
    }
}

/// `body` with `text` as a C string that lives for the call.
private func withCString<T>(_ text: String, _ body: (UnsafePointer<CChar>) throws(Guestfs.Error) -> T) throws(Guestfs.Error) -> T {
    let copy = strdup(text)!
    defer { free(copy) }
    return try body(copy)
}

/// `body` with a NULL-terminated array of C strings.
private func withCStrings<T>(_ texts: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) throws(Guestfs.Error) -> T) throws(Guestfs.Error) -> T {
    var pointers: [UnsafeMutablePointer<CChar>?] = texts.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return try pointers.withUnsafeMutableBufferPointer { buffer throws(Guestfs.Error) in try body(buffer.baseAddress!) }
}

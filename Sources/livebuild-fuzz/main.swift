// livebuild-fuzz: the fuzz targets (Sources/FuzzTargets) as a program. Built normally it replays
// inputs; built with `-sanitize=fuzzer -DFUZZING` (`make fuzz`) it is the libFuzzer binary.
import Glibc
import FuzzTargets

/// Writes `text` to standard error.
func complain(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
}

#if FUZZING
import CFuzzerDriver

// libFuzzer's own main never runs (SwiftPM links `main` to this file), so start it here, with
// the target named by LIVEBUILD_FUZZ_TARGET. libFuzzer's options and corpus directories are the
// arguments, as for any libFuzzer binary.
nonisolated(unsafe) var selected: FuzzTargets.Target?

/// Defined for libFuzzer's objects, which refer to it; every call goes through ``selected``.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected?.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

let name = getenv("LIVEBUILD_FUZZ_TARGET").map { String(cString: $0) } ?? ""
guard let target = FuzzTargets.named(name) else {
    let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
    complain("livebuild-fuzz: set LIVEBUILD_FUZZ_TARGET to one of \(names)\n")
    exit(2)
}
selected = target
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })

#else

let usage = """
    usage: livebuild-fuzz TARGET FILE-OR-DIRECTORY...   run each file through TARGET
           livebuild-fuzz --write-seeds DIRECTORY       write the seeds as DIRECTORY/TARGET/NAME
    targets: \(FuzzTargets.all.map(\.name).joined(separator: ", "))

    """

func files(under path: String) -> [String] {
    guard let directory = opendir(path) else { return [path] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted().flatMap { files(under: path + "/" + $0) }
}

func read(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count == 0 { break }
        bytes += buffer.prefix(count)
    }
    return ferror(file) == 0 ? bytes : nil
}

func write(_ bytes: [UInt8], to path: String) -> Bool {
    guard let file = fopen(path, "wb") else { return false }
    defer { fclose(file) }
    return fwrite(bytes, 1, bytes.count, file) == bytes.count
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.count == 2, arguments[0] == "--write-seeds" {
    for seed in FuzzTargets.seeds() {
        let directory = arguments[1] + "/" + seed.target
        mkdir(arguments[1], 0o755)
        mkdir(directory, 0o755)
        guard write(seed.bytes, to: directory + "/" + seed.name) else {
            complain("livebuild-fuzz: cannot write \(directory)/\(seed.name)\n")
            exit(1)
        }
    }
    exit(0)
}
guard arguments.count >= 2, let target = FuzzTargets.named(arguments[0]) else {
    complain(usage)
    exit(2)
}
var count = 0
for path in arguments.dropFirst().flatMap(files(under:)) {
    guard let bytes = read(path) else {
        complain("livebuild-fuzz: cannot read \(path)\n")
        exit(1)
    }
    target.run(bytes)
    count += 1
}
print("\(target.name): \(count) inputs ran")
#endif

import Foundation

/// Resolves the kernel modules the live init needs, with their dependencies, from the image's
/// own `modules.dep` and `modules.builtin`. A pure function of those texts.
public struct ModuleResolver: Sendable {
    public struct Module: Sendable, Equatable {
        /// Canonical name (`virtio_blk`: dashes folded to underscores, no suffix).
        public var name: String
        /// Path relative to the modules directory (`kernel/drivers/block/virtio_blk.ko.xz`).
        public var path: String
    }

    public struct Resolution: Sendable, Equatable {
        /// Modules to load, each after its dependencies.
        public var load: [Module]
        /// Wanted modules the kernel has built in (nothing to load).
        public var builtin: [String]
        /// Wanted modules this kernel has neither as a module nor built in.
        public var missing: [String]
    }

    private var paths: [String: String] = [:]
    private var dependencies: [String: [String]] = [:]
    private var builtins: Set<String> = []

    public init(modulesDep: String, modulesBuiltin: String) {
        for line in modulesDep.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let path = String(line[..<colon])
            let name = Self.canonicalName(path)
            paths[name] = path
            dependencies[name] = line[line.index(after: colon)...].split(separator: " ").map { Self.canonicalName(String($0)) }
        }
        for line in modulesBuiltin.split(separator: "\n") {
            builtins.insert(Self.canonicalName(String(line)))
        }
    }

    /// `kernel/fs/overlayfs/overlay.ko.xz` → `overlay`; `usb-storage` → `usb_storage`.
    public static func canonicalName(_ pathOrName: String) -> String {
        var base = Substring(pathOrName)
        if let slash = base.lastIndex(of: "/") { base = base[base.index(after: slash)...] }
        if let ko = base.range(of: ".ko") { base = base[..<ko.lowerBound] }
        return base.replacingOccurrences(of: "-", with: "_")
    }

    public func resolve(_ wanted: [String]) -> Resolution {
        var load: [Module] = []
        var seen: Set<String> = []
        var builtin: [String] = []
        var missing: [String] = []
        func visit(_ name: String) {
            guard !seen.contains(name) else { return }
            seen.insert(name)
            guard let path = paths[name] else { return }
            for dependency in dependencies[name] ?? [] { visit(dependency) }
            load.append(Module(name: name, path: path))
        }
        for raw in wanted {
            let name = Self.canonicalName(raw)
            if paths[name] != nil {
                visit(name)
            } else if builtins.contains(name) {
                builtin.append(name)
            } else {
                missing.append(name)
            }
        }
        return Resolution(load: load, builtin: builtin, missing: missing)
    }
}

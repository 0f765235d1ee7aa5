extension ProfileDecoder {
    static let kernelKeys = ["cmdline"]
    static let bootKeys = ["timeout", "entries", "serial"]
    static let bootEntryKeys = ["label", "cmdline"]
    static let serialKeys = ["port", "speed"]
    static let squashfsKeys = ["compression", "level", "blockSize"]
    /// The longest boot menu wait allowed, in seconds.
    static let maximumTimeout = 3600
    /// Boot menus are narrow.
    static let maximumLabelLength = 64

    func decodeKernel(_ reader: NodeReader) throws(ProfileError) -> Profile.Kernel {
        let object = try reader.object(allowing: Self.kernelKeys)
        var kernel = Profile.Kernel()
        if let value = object.optional("cmdline") { kernel.cmdline = try decodeCmdline(value.mergeableArray()) }
        return kernel
    }

    /// Kernel arguments, one per element.
    func decodeCmdline(_ items: [NodeReader]) throws(ProfileError) -> [String] {
        var arguments: [String] = []
        for item in items {
            let argument = try item.nonEmptyString("a kernel argument")
            guard !argument.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) else {
                throw item.error("kernel argument \"\(argument)\" contains whitespace; write one argument per array element")
            }
            arguments.append(argument)
        }
        return arguments
    }

    func decodeBoot(_ reader: NodeReader) throws(ProfileError) -> Profile.Boot {
        let object = try reader.object(allowing: Self.bootKeys)
        var boot = Profile.Boot()
        if let value = object.optional("timeout") {
            boot.timeout = try value.integer(in: 0...Self.maximumTimeout, what: "timeout")
        }
        if let value = object.optional("entries") {
            let items = try value.array()
            guard !items.isEmpty else { throw value.error("expected at least one boot entry, like [{\"label\": \"Live\"}]") }
            var entries: [Profile.BootEntry] = []
            for item in items {
                let fields = try item.object(allowing: Self.bootEntryKeys)
                let labelReader = try fields.required("label")
                let label = try labelReader.nonEmptyString("a label")
                guard !label.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                    throw labelReader.error("label contains a control character")
                }
                guard label.count <= Self.maximumLabelLength else {
                    throw labelReader.error("label is \(label.count) characters long; at most \(Self.maximumLabelLength) fit in the boot menu")
                }
                let cmdline = try fields.optional("cmdline").map { value throws(ProfileError) in try decodeCmdline(value.array()) } ?? []
                entries.append(Profile.BootEntry(label: label, cmdline: cmdline))
            }
            boot.entries = entries
        }
        if let value = object.optional("serial") {
            let fields = try value.object(allowing: Self.serialKeys)
            var serial = Profile.Serial()
            if let port = fields.optional("port") {
                serial.port = try port.integer(in: Profile.Serial.ports, what: "port")
            }
            if let speed = fields.optional("speed") {
                let baud = try speed.integer()
                guard Profile.Serial.speeds.contains(baud) else {
                    throw speed.error("unsupported speed \(baud); expected one of \(Profile.Serial.speeds.map(String.init).joined(separator: ", "))")
                }
                serial.speed = baud
            }
            boot.serial = serial
        }
        return boot
    }

    func decodeSquashfs(_ reader: NodeReader) throws(ProfileError) -> Profile.SquashfsSettings {
        let object = try reader.object(allowing: Self.squashfsKeys)
        var settings = Profile.SquashfsSettings()
        if let value = object.optional("compression") {
            settings.compression = try value.choice(Profile.Compression.self, what: "compressor")
        }
        if let value = object.optional("level") {
            let level = try value.integer()
            // A fragment without its own compressor may be completed by another file's.
            if mode == .complete || object.optional("compression") != nil {
                let compression = settings.compression
                guard let levels = compression.levels else {
                    throw value.error("\(compression.rawValue) takes no level; remove \"level\"")
                }
                guard levels.contains(level) else {
                    throw value.error(
                        "level \(level) is out of range for \(compression.rawValue); expected \(levels.lowerBound) to \(levels.upperBound)")
                }
            }
            settings.level = level
        }
        if let value = object.optional("blockSize") {
            let size = try value.integer()
            let range = Profile.SquashfsSettings.blockSizes
            guard size > 0, size & (size - 1) == 0 else {
                throw value.error(
                    "block size \(size) is not a power of two; expected a power of two from \(range.lowerBound) to \(range.upperBound), like 131072")
            }
            guard range.contains(size) else {
                throw value.error(
                    "block size \(size) is out of range; expected a power of two from \(range.lowerBound) to \(range.upperBound)")
            }
            settings.blockSize = size
        }
        return settings
    }
}

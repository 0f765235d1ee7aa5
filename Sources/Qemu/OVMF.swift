import Foundation

extension Qemu {
    /// UEFI firmware for x86-64 guests: the code image and the template of its variable store.
    public struct OVMF: Sendable, Hashable {
        /// Firmware code, attached read-only.
        public var code: String
        /// Pristine variable store; each VM works on its own copy.
        public var varsTemplate: String

        public init(code: String, varsTemplate: String) {
            self.code = code
            self.varsTemplate = varsTemplate
        }

        /// Candidate pairs installed by Debian's `ovmf` package, preferred first (4 MiB flash
        /// layout, then the older 2 MiB one). The code and vars of a pair must match in size.
        public static let debianCandidates: [OVMF] = [
            OVMF(code: "/usr/share/OVMF/OVMF_CODE_4M.fd", varsTemplate: "/usr/share/OVMF/OVMF_VARS_4M.fd"),
            OVMF(code: "/usr/share/OVMF/OVMF_CODE.fd", varsTemplate: "/usr/share/OVMF/OVMF_VARS.fd"),
        ]

        /// The first installed pair of `debianCandidates`.
        public static func installed() throws(Qemu.Error) -> OVMF {
            let fileManager = FileManager.default
            for candidate in debianCandidates
            where fileManager.fileExists(atPath: candidate.code) && fileManager.fileExists(atPath: candidate.varsTemplate) {
                return candidate
            }
            throw .firmwareMissing(debianCandidates.map(\.code))
        }
    }
}

import ArgumentParser

@main
struct LiveBuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "livebuild",
        abstract: "Build bootable live systems from a JSON profile."
    )
}

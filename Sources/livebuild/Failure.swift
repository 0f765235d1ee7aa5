import ArgumentParser
import Foundation
import LiveBuild
import Profile
import VirtualCluster

/// Turns any error into one line on standard error and exit status 1.
enum Failure {
    static func report(_ error: any Error) -> ExitCode {
        let message: String
        switch error {
        case let error as ProfileError: message = error.description
        case let error as LiveBuildError: message = error.description
        case let error as VirtualCluster.Error: message = error.description
        default: message = String(describing: error)
        }
        FileHandle.standardError.write(Data("livebuild: error: \(message)\n".utf8))
        return ExitCode.failure
    }
}

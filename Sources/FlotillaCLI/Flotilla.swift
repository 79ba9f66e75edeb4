import ArgumentParser
import FlotillaAPI
import FlotillaCore
import Foundation

/// The `flotilla` command.
package struct Flotilla: AsyncParsableCommand {
    package static let version = FlotillaVersion.current

    package static let configuration = CommandConfiguration(
        commandName: "flotilla",
        abstract: "Turn a goal into verified, merged code with a fleet of coding agents.",
        discussion: """
            Flotilla works through an acceptance checklist (ACCEPTANCE.md) whose groups depend on each other. \
            Agents work the ready groups in parallel, each attempt in its own git worktree; the verify command, \
            which agents cannot change, decides pass or fail; verified work lands on the target branch through a \
            merge queue that re-verifies every merged commit. Everything is recorded in .flotilla/ledger.sqlite.

            Exit status: 0 completed, 1 failed, 2 bad input, 3 blocked (needs a human), 4 stopped by you, \
            5 a breaker tripped (cost, time or attempts).

            Try it offline: flotilla demo
            """,
        version: version,
        subcommands: [
            Plan.self, MissionRun.self, MissionStatus.self, MissionList.self, MissionLogs.self, MissionHistory.self,
            MissionResume.self, MissionStep.self, MissionAttach.self, MissionStop.self, MissionApprove.self,
            MissionReject.self,
            MissionLand.self,
            MissionCheck.self,
            MissionDemo.self,
            Report.self, MCPServe.self, Serve.self, Init.self, Doctor.self, Benchmark.self, Collect.self,
            Schedules.self,
        ]
    )

    package init() {}

    /// Runs the command line and exits with Flotilla's exit statuses: a ``FlotillaError`` with its code's, a usage error
    /// with 2.
    package static func main(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        let wantsJSON = Self.wantsJSON(arguments)
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch let missionExit as MissionExit {
            Foundation.exit(missionExit.code)
        } catch let error as FlotillaError {
            // Each error's own code and status, as the API reports it: `not_found` exits 2, `unavailable` 1.
            report(code: error.code.name, message: error.description, json: wantsJSON)
            Foundation.exit(error.code.exitStatus)
        } catch let error as CleanExit {
            Console.out(fullMessage(for: error))
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                Console.out(fullMessage(for: error))
                Foundation.exit(0)
            }
            if code == .validationFailure {
                // Usage errors from argument parsing: Flotilla's contract is exit status 2.
                if wantsJSON {
                    report(code: "invalid_input", message: message(for: error), json: true)
                } else {
                    Console.err(fullMessage(for: error))
                }
                Foundation.exit(2)
            }
            report(code: "error", message: message(for: error), json: wantsJSON)
            Foundation.exit(code == .failure ? 1 : code.rawValue)
        }
    }

    private static func report(code: String, message: String, json: Bool) {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            if let data = try? encoder.encode(ErrorDTO(code: code, message: message)) {
                FileHandle.standardError.write(data + Data("\n".utf8))
            }
        } else {
            Console.err("error: " + message)
        }
    }

    private static func wantsJSON(_ arguments: [String]) -> Bool {
        for (index, argument) in arguments.enumerated() {
            if argument == "--output=json" { return true }
            if argument == "--output", index + 1 < arguments.count, arguments[index + 1] == "json" { return true }
        }
        return false
    }
}

/// The mission ended with a status that is a result, not an error (blocked, stopped, breaker…).
struct MissionExit: Error, Sendable {
    var code: Int32
}

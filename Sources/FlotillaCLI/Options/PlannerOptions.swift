import ArgumentParser
import FlotillaCore
import FlotillaService

/// The planner's flags, shared by `plan` and by `run` with a goal and no checklist.
struct PlannerOptions: ParsableArguments {
    @Option(
        help: """
            Planner: openai (any OpenAI-compatible server) or anthropic (HTTP APIs), or claude or codex (their CLIs' \
            structured modes).
            """
    )
    var planner: LanguageModelAPI?

    @Option(help: "The planner's API root, e.g. http://127.0.0.1:8000/v1.")
    var plannerURL: String?

    @Option(help: "The planner's model.")
    var plannerModel: String?

    @Option(help: "For --planner claude or codex: the executable (default: its name on PATH).")
    var plannerBinary: String?

    /// The settings the flags give; `keyFiles` come from the command's `--key-file`.
    func settings(keyFiles: [String]) -> LanguageModelSettings {
        LanguageModelSettings(
            api: planner,
            url: plannerURL,
            model: plannerModel,
            binary: plannerBinary,
            keyFiles: keyFiles
        )
    }
}

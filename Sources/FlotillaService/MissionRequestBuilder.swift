import FlotillaCore
import FlotillaEngine
import Foundation

/// Turns the fields a mission is asked with (flags or a request body) into a checked ``MissionRequest``: layered
/// over the environment's and the configuration files', paths taken from the repository root, the checklist read,
/// and the agent and critic built (and so checked) before anything is written.
package struct MissionRequestBuilder {
    package let composition: Composition
    package let root: String
    /// The repository's configuration files, read once for everything the request builds.
    package let configuration: Configuration

    package init(composition: Composition, root: String) throws {
        self.composition = composition
        self.root = root
        configuration = try Configuration.load(root: root, environment: composition.environment)
    }

    /// `given` over the environment's fields over the files', relative paths taken from the repository root.
    package func layered(_ given: MissionFields) throws -> MissionFields {
        let environment = try MissionFields.environment(composition.environment)
        let fields = given.layered(over: environment.layered(over: configuration.fields)).resolvingPaths(against: root)
        let problems = fields.crossFieldProblems()
        if !problems.isEmpty {
            throw FlotillaError.invalid(problems.map(\.description).joined(separator: "; "), fields: problems)
        }
        return fields
    }

    /// Whether the fields name a checklist, or the repository has ACCEPTANCE.md.
    package func hasChecklist(_ given: MissionFields) throws -> Bool {
        let fields = try layered(given)
        return fields.acceptance != nil || fields.acceptancePath != nil
            || FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent("ACCEPTANCE.md"))
    }

    package func build(_ given: MissionFields) throws -> MissionRequest {
        let fields = try layered(given)
        let checklist: Checklist
        let checklistPath: String
        if let text = fields.acceptance {
            checklistPath = "acceptance"
            checklist = try ChecklistFile.parse(Data(text.utf8), name: checklistPath, json: text.first == "{")
        } else {
            checklistPath = fields.acceptancePath ?? (root as NSString).appendingPathComponent("ACCEPTANCE.md")
            checklist = try ChecklistFile.read(checklistPath, given: fields.acceptancePath != nil)
        }
        guard let backend = fields.impliedBackend else {
            throw FlotillaError.invalid(
                "choose an agent: --backend simulate --scenario FILE, --agent-command 'CMD', or an agent CLI "
                    + "(--backend claude, codex, …; or backend in flotilla.toml)",
                fields: [FieldProblem(field: "backend", message: "is required")]
            )
        }
        // The critic and the agent are built (and so checked) before anything is written.
        let critic = try LanguageModels.critic(
            fields,
            configuration: configuration,
            composition: composition,
            root: root
        )
        if critic == nil, fields.architect.flatMap(ModelChoice.init) == .critic {
            throw FlotillaError.invalid(
                "--architect critic needs a model to plan with: configure the critic (--critic, --critic-url), or "
                    + "name the architect's own (--architect claude:opus)",
                fields: [FieldProblem(field: "architect", message: "needs a critic model")]
            )
        }
        _ = try LanguageModels.architect(fields, configuration: configuration, composition: composition, root: root)
        if critic == nil, fields.objectiveCheck == true {
            throw FlotillaError.invalid(
                "--objective-check needs a model to judge the goal with: configure the critic (--critic, --critic-url)",
                fields: [FieldProblem(field: "objective_check", message: "needs a critic model")]
            )
        }
        if critic == nil, fields.reviewMode != .none {
            throw FlotillaError.invalid(
                "--review \(fields.reviewMode.rawValue) needs a model to review with: configure the critic "
                    + "(--critic, --critic-url)",
                fields: [FieldProblem(field: "review", message: "needs a critic model")]
            )
        }
        if critic == nil, fields.hackCheck == true {
            throw FlotillaError.invalid(
                "--hack-check needs a model to read diffs with: configure the critic (--critic, --critic-url)",
                fields: [FieldProblem(field: "hack_check", message: "needs a critic model")]
            )
        }
        let secret = NotificationTarget.callbackSecretVariable
        if fields.callbackURL != nil, composition.environment[secret]?.isEmpty ?? true {
            throw FlotillaError.invalid(
                "callback_url: the result is signed with the secret in \(secret), which is not set where Flotilla "
                    + "runs (set it for `flotilla serve` or `flotilla run`)",
                fields: [FieldProblem(field: "callback_url", message: "needs \(secret) set to sign with")]
            )
        }
        let factory = AgentFactory(configuration: configuration, composition: composition, root: root)
        _ = try factory.make(backend, fields: fields, checklist: checklist)
        let pipelines = try Pipeline.chosen(by: checklist, mission: fields.pipeline, defined: configuration.pipelines)
        // Every step's agent is built (and so checked) too.
        for pipeline in pipelines {
            for step in pipeline.agentSteps where step.backend != nil {
                do {
                    _ = try factory.make(step, fields: fields, checklist: checklist)
                } catch {
                    throw FlotillaError.invalid("pipeline \(pipeline.name), step \(step.id): \(error)")
                }
            }
        }
        return MissionRequest(
            checklist: checklist,
            checklistPath: checklistPath,
            backend: backend,
            fields: fields,
            pipelines: pipelines
        )
    }
}

/// Reads a checklist file in either form.
package enum ChecklistFile {
    package static func read(_ path: String, given: Bool) throws -> Checklist {
        guard let data = FileManager.default.contents(atPath: path) else {
            if given { throw FlotillaError.invalid("cannot read the checklist \(path): no such file") }
            throw FlotillaError.invalid(
                "no checklist: pass --acceptance FILE, or write ACCEPTANCE.md at the repository root "
                    + "(`## Group` headings with `- [ ] criterion` bullets)"
            )
        }
        return try parse(data, name: (path as NSString).lastPathComponent, json: path.hasSuffix(".json"))
    }

    package static func parse(_ data: Data, name: String, json: Bool) throws -> Checklist {
        do {
            if json { return try ChecklistJSON.decode(data, file: name) }
            return try ChecklistParser.parse(String(decoding: data, as: UTF8.self), file: name)
        } catch {
            throw FlotillaError.invalid(error.description, fields: error.fields)
        }
    }
}

import FlotillaCore
import Foundation

/// An attempt's pipeline files, fixed so that scripts can rely on them: `pipeline.json` (the run: current step,
/// each try, loops) and `steps/NN_STEP[.LOOP]/` with `prompt.md`, `transcript.log`, `patch.diff`, `result.json`,
/// `in/` (the inputs it was given) and `out/` (what it left).
struct PipelineFiles {
    let directory: String
    let pipeline: Pipeline

    var steps: String { (directory as NSString).appendingPathComponent("steps") }
    var state: String { (directory as NSString).appendingPathComponent("pipeline.json") }

    func folder(number: Int, step: String, loop: Int) -> String {
        (steps as NSString).appendingPathComponent(PipelineRun.folder(number: number, step: step, loop: loop))
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    /// Marks an attempt that recovery interrupted, or that a step's `on_fail = "human"` stopped, so that the group's
    /// next attempt goes on from its unfinished run.
    static func markInterrupted(_ directory: String) {
        guard FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("pipeline.json"))
        else { return }
        _ = FileManager.default.createFile(
            atPath: (directory as NSString).appendingPathComponent("interrupted"),
            contents: nil
        )
    }

    /// The unfinished run of an interrupted earlier attempt from the same start commit, or nil.
    ///
    /// Its steps' folders are copied here. It is taken once: its mark goes.
    func adopt(from earlier: PipelineFiles, startCommit: String) throws -> PipelineRun? {
        let marker = (earlier.directory as NSString).appendingPathComponent("interrupted")
        guard FileManager.default.fileExists(atPath: marker),
            let data = FileManager.default.regularFileContents(atPath: earlier.state, limit: 16 << 20),
            var run = try? Self.decoder.decode(PipelineRun.self, from: data)
        else { return nil }
        run.released()
        guard run.isUnfinished, run.startCommit == startCommit, run.pipeline == pipeline else { return nil }
        try FileManager.default.removeItem(atPath: marker)
        try FileManager.default.createDirectory(atPath: steps, withIntermediateDirectories: true)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: earlier.steps)) ?? [] {
            let target = (steps as NSString).appendingPathComponent(name)
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(
                atPath: (earlier.steps as NSString).appendingPathComponent(name),
                toPath: target
            )
        }
        return run
    }

    func save(_ run: PipelineRun) throws {
        try Self.encoder.encode(run).write(to: URL(fileURLWithPath: state), options: .atomic)
    }

    func write(result record: PipelineStepRecord, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Self.encoder.encode(record).write(
            to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("result.json")),
            options: .atomic
        )
    }

    /// The regular files under `directory`, relative to it, sorted (at most 1,000: a step's outputs are files to
    /// read, not a tree).
    func outputs(in directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var found: [String] = []
        while let path = walker.nextObject() as? String, found.count < 1000 {
            if walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular { found.append(path) }
        }
        return found.sorted()
    }

    /// Copies the step's inputs from the latest try of each step they name into `directory` (`STEP/FILE`), which
    /// the step reads as `FLOTILLA_STEP_IN`; an input no earlier try left is missing, and says so.
    func gather(_ inputs: [PipelineInput], from run: PipelineRun, into directory: String) throws -> [StepInput] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try inputs.map { input in
            guard let source = source(of: input, in: run) else { return StepInput(name: input.description, path: nil) }
            let target = (directory as NSString).appendingPathComponent(input.description)
            try FileManager.default.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: source, toPath: target)
            return StepInput(name: input.description, path: target)
        }
    }

    /// Where the file an input names is: the gate's output, a step's standard file, or one of its outputs.
    private func source(of input: PipelineInput, in run: PipelineRun) -> String? {
        let folder: String
        if input.step == Pipeline.gateStep {
            guard let index = pipeline.index(of: Pipeline.gateStep) else { return nil }
            folder = self.folder(number: index + 1, step: Pipeline.gateStep, loop: 0)
        } else {
            guard let last = run.records.last(where: { $0.step == input.step }) else { return nil }
            folder = self.folder(number: last.number, step: last.step, loop: last.loop)
        }
        let candidates =
            PipelineStep.standardFiles.contains(input.file) || input.step == Pipeline.gateStep
            ? [(folder as NSString).appendingPathComponent(input.file)]
            : [((folder as NSString).appendingPathComponent("out") as NSString).appendingPathComponent(input.file)]
        // A regular file only (lstat): a step's link to somewhere else is no input.
        return candidates.first { path in
            (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType == .typeRegular
        }
    }
}

/// An input a step was given: where its copy is, or nil when it is missing.
struct StepInput: Equatable {
    let name: String
    let path: String?
}

import Foundation

/// What judges a mission, as its base commit holds it: the verify command's own files, followed through what they
/// delegate to, and the test runners it recognises.
///
/// The files are protected (an attempt changing one is rejected) and taken from the base for every verify run; the
/// runners say which configuration and plugins ``GraderGuard`` keeps an attempt from adding or changing.
package struct Harness: Sendable, Equatable {
    /// Repository files the verify commands run or read, transitively, each with what reached it.
    ///
    /// Scripts, Makefiles, `package.json`, `tox.ini`; what reached them is `verify.sh`, `Makefile`, the command line.
    package var files: [String: String] = [:]
    /// The test runners and build tools the commands use.
    package var runners: Set<TestRunner> = []

    package init(files: [String: String] = [:], runners: Set<TestRunner> = []) {
        self.files = files
        self.runners = runners
    }

    /// How many files it follows at most, and how much of each it reads: a harness is a handful of scripts.
    static let fileLimit = 200
    static let sizeLimit = 1 << 20

    /// Follows `commands` (the verify command and the groups' checks) through the files of the base: `read` gives a
    /// path's contents, or nil when the base has no such file (or it is not a regular file).
    package static func resolve(
        commands: [String],
        read: @escaping @Sendable (String) async -> String?
    ) async -> Harness {
        var walker = HarnessWalker(read: read)
        for command in commands where !command.isEmpty {
            await walker.script([command], in: "", from: "the verify command", everyPath: true)
        }
        return walker.harness
    }
}

/// A test runner or build tool Flotilla recognises in a verify command, for the files it loads.
package enum TestRunner: String, Sendable, Codable, CaseIterable {
    case pytest, unittest
    case goTest = "go test"
    case cargoTest = "cargo test"
    case jest, vitest, mocha
    case swiftTest = "swift test"
    case make, npm, tox
}

/// Walks command lines and the scripts they run, collecting the harness.
private struct HarnessWalker {
    let read: @Sendable (String) async -> String?
    var harness = Harness()
    var scanned: Set<String> = []

    /// A script's lines (or one command line), run from `directory`; a `cd` holds for the lines after it.
    ///
    /// Only what the commands run is followed: a script or program they execute, a script an interpreter or `source`
    /// reads, a configuration file given with `-c`/`--config`, and what `make`, `npm` and `tox` run. Files a command
    /// merely reads as data (`grep NAME README.md`) are the work, not the grader. On the verify command's own line
    /// (`everyPath`) every word that names a file of the base counts, as it always has.
    mutating func script(_ lines: [String], in directory: String, from origin: String, everyPath: Bool = false) async {
        var directory = directory
        for line in lines {
            for words in ShellWords.simpleCommands(line) {
                if everyPath {
                    for word in words { _ = await take(word, in: directory, from: origin) }
                }
                await simple(words, directory: &directory, from: origin)
            }
        }
    }

    /// Words a command line puts before the program it runs.
    static let wrappers: Set<String> = [
        "exec", "command", "builtin", "time", "nice", "nohup", "env", "xargs", "then", "do", "else", "elif", "if",
        "while", "until", "!", "{", "}", "sudo",
    ]
    static let shells: Set<String> = ["sh", "bash", "zsh", "dash", "ksh"]
    static let interpreters: Set<String> = ["node", "ruby", "perl", "php", "bun", "deno", "tsx", "ts-node", "Rscript"]
    static let configurationFlags: Set<String> = ["-c", "--config", "--config-file", "--configfile", "--rcfile"]

    /// One simple command: its program, what the program reads as code, and the runners it names.
    mutating func simple(_ given: [String], directory: inout String, from origin: String) async {
        var words = given[...]
        while let first = words.first {
            if Self.wrappers.contains(first) || Self.isAssignment(first) {
                words.removeFirst()
            } else if first == "timeout" {
                words.removeFirst()
                while let flag = words.first, flag.hasPrefix("-") { words.removeFirst() }
                words = words.dropFirst()
            } else {
                break
            }
        }
        guard let program = words.first else { return }
        let arguments = Array(words.dropFirst())
        let operands = arguments.filter { !$0.hasPrefix("-") }
        detectRunners(Array(words))
        switch program {
        case "cd":
            if let path = operands.first.flatMap({ Self.resolve($0, in: directory) }) { directory = path }
        case "make", "gmake":
            await make(arguments[...], in: directory, from: origin)
        case "npm", "yarn", "pnpm":
            await npm(arguments, tool: program, in: directory, from: origin)
        case "npx", "uv", "poetry", "pipenv", "hatch", "pdm":
            // `npx jest`, `uv run pytest`: the rest is a command of its own.
            let rest = Array(arguments.drop { $0 == "run" || $0.hasPrefix("-") })
            await simple(rest, directory: &directory, from: origin)
        case "tox":
            await tox(in: directory, from: origin)
        case "source", ".":
            if let file = operands.first { await follow(file, in: directory, from: origin) }
        case _ where Self.shells.contains(program):
            if let index = arguments.firstIndex(of: "-c"), index + 1 < arguments.count {
                await self.script([arguments[index + 1]], in: directory, from: origin)
            } else if let file = operands.first {
                await follow(file, in: directory, from: origin)
            }
        case _ where program.hasPrefix("python"):
            // `python -m MODULE` runs a module (the runners above); `python FILE` reads FILE as code.
            if !arguments.contains("-m"), !arguments.contains("-c"), let file = operands.first {
                _ = await take(file, in: directory, from: origin)
            }
        case _ where Self.interpreters.contains(program):
            if let file = operands.first { _ = await take(file, in: directory, from: origin) }
        default:
            if program.contains("/") || Self.isScriptName(program) {
                await follow(program, in: directory, from: origin)
            }
        }
        for (index, argument) in arguments.enumerated()
        where Self.configurationFlags.contains(argument) && index + 1 < arguments.count
            && !Self.shells.contains(program)
        {
            _ = await take(arguments[index + 1], in: directory, from: origin)
        }
    }

    /// The test runners and build tools a simple command names.
    mutating func detectRunners(_ words: [String]) {
        for (index, word) in words.enumerated() {
            let next = index + 1 < words.count ? words[index + 1] : nil
            switch word {
            case "make", "gmake": harness.runners.insert(.make)
            case "npm", "yarn", "pnpm": harness.runners.insert(.npm)
            case "tox": harness.runners.insert(.tox)
            case "pytest", "py.test": harness.runners.insert(.pytest)
            case "-m" where next == "pytest": harness.runners.insert(.pytest)
            case "-m" where next == "unittest": harness.runners.insert(.unittest)
            case "go" where next == "test": harness.runners.insert(.goTest)
            case "cargo" where next == "test" || next == "nextest": harness.runners.insert(.cargoTest)
            case "jest", "vitest", "mocha": harness.runners.insert(TestRunner(rawValue: word) ?? .jest)
            case "swift" where next == "test": harness.runners.insert(.swiftTest)
            default: break
            }
        }
    }

    /// A script a command runs: it joins the harness, and a shell script is followed (once, however often it is
    /// reached or calls itself), from the directory its caller runs in.
    mutating func follow(_ word: String, in directory: String, from origin: String) async {
        guard let (path, contents) = await take(word, in: directory, from: origin) else { return }
        if Self.isShellScript(path, contents), scanned.insert(path).inserted {
            await script(ShellWords.commandLines(contents), in: directory, from: path)
        }
    }

    /// A word naming a file of the base, relative to `directory`: added to the harness, with its contents.
    mutating func take(_ word: String, in directory: String, from origin: String) async -> (String, String)? {
        guard let path = Self.resolve(word, in: directory), let contents = await take(path, from: origin) else {
            return nil
        }
        return (path, contents)
    }

    /// A word as a path from the repository's root, run from `directory`: `..` resolved, nil when it climbs out or is
    /// not a path of the repository (an option, an assignment, a variable, an absolute path).
    static func resolve(_ word: String, in directory: String) -> String? {
        guard !word.hasPrefix("-"), !word.contains("="), !word.contains("$"), !word.hasPrefix("/"),
            !word.hasPrefix("~"), !word.isEmpty
        else { return nil }
        var parts = directory.split(separator: "/").map(String.init)
        for part in word.split(separator: "/").map(String.init) {
            switch part {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            default: parts.append(part)
            }
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }

    static func isAssignment(_ word: String) -> Bool {
        guard let equals = word.firstIndex(of: "="), equals != word.startIndex else { return false }
        return word[..<equals].allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
    }

    static func isScriptName(_ word: String) -> Bool {
        [".sh", ".bash", ".py", ".js", ".mjs", ".rb", ".pl"].contains(where: word.hasSuffix)
    }

    /// `make [-f FILE] [-C DIR] …`: the Makefile's recipes and includes are followed.
    mutating func make(_ arguments: ArraySlice<String>, in directory: String, from origin: String) async {
        var directory = directory
        var named: String?
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            let value = index + 1 < arguments.endIndex ? arguments[index + 1] : nil
            if argument == "-f" || argument == "--file" || argument == "--makefile", let value {
                named = value
            } else if argument == "-C" || argument == "--directory", let value,
                let path = Self.resolve(value, in: directory)
            {
                directory = path
            }
            index += 1
        }
        // GNU make enters the `-C` directory first, then reads its makefiles from there.
        for name in named.map({ [$0] }) ?? ["GNUmakefile", "makefile", "Makefile"] {
            guard let path = Self.resolve(name, in: directory), await read(path) != nil else { continue }
            await makefile(path, in: directory, from: origin)
            return
        }
    }

    mutating func makefile(_ path: String, in directory: String, from origin: String) async {
        guard let contents = await take(path, from: origin), scanned.insert("make:" + path).inserted else { return }
        for line in contents.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("\t") {
                // A recipe: the shell runs it (less make's own prefixes).
                let recipe = line.drop { $0 == "\t" || $0 == "@" || $0 == "-" || $0 == "+" }
                await script([String(recipe)], in: directory, from: path)
            } else if let included = Self.included(String(line)) {
                for name in ShellWords.split(included) {
                    if let included = Self.resolve(name, in: directory) {
                        await makefile(included, in: directory, from: path)
                    }
                }
            }
        }
    }

    /// `npm test`, `npm run NAME`, `yarn NAME`, `pnpm run NAME`: the script (and its `pre`/`post` scripts) is
    /// followed.
    mutating func npm(_ arguments: [String], tool: String, in directory: String, from origin: String) async {
        let path = Self.join(directory, "package.json")
        guard let contents = await take(path, from: origin),
            case .object(let scripts)? = (try? JSONDecoder().decode(JSONValue.self, from: Data(contents.utf8)))?[
                "scripts"
            ]
        else { return }
        let words = arguments.filter { !$0.hasPrefix("-") }
        guard var name = words.first else { return }
        if ["run", "run-script", "rum", "urn"].contains(name) {
            guard words.count > 1 else { return }
            name = words[1]
        } else if tool == "npm", ["t", "tst"].contains(name) {
            name = "test"
        }
        for script in ["pre" + name, name, "post" + name] where scanned.insert(path + ":" + script).inserted {
            if let text = scripts[script]?.stringValue {
                await self.script([text], in: directory, from: "\(path) (\(script))")
            }
        }
    }

    /// `tox`: the commands of every `[testenv…]` section of `tox.ini` are followed.
    mutating func tox(in directory: String, from origin: String) async {
        let path = Self.join(directory, "tox.ini")
        guard let contents = await take(path, from: origin), scanned.insert(path).inserted else { return }
        var inTestEnvironment = false
        var inCommands = false
        for raw in contents.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            let text = line.trimmingWhitespace()
            if text.hasPrefix("[") {
                inTestEnvironment = text.hasPrefix("[testenv")
                inCommands = false
                continue
            }
            guard inTestEnvironment, !text.isEmpty, !text.hasPrefix("#") else { continue }
            if !line.hasPrefix(" ") && !line.hasPrefix("\t") {
                let parts = text.split(separator: "=", maxSplits: 1)
                inCommands = parts.first.map { String($0).trimmingWhitespace() } == "commands"
                if inCommands, parts.count == 2 { await script([String(parts[1])], in: directory, from: path) }
            } else if inCommands {
                await script([text], in: directory, from: path)
            }
        }
    }

    /// A file of the base, added to the harness the first time; nil when the base has none, it is too large, or the
    /// harness is full.
    mutating func take(_ path: String, from origin: String) async -> String? {
        guard let contents = await read(path), contents.utf8.count <= Harness.sizeLimit else { return nil }
        if harness.files[path] == nil {
            guard harness.files.count < Harness.fileLimit else { return nil }
            harness.files[path] = origin
        }
        return contents
    }

    static func join(_ directory: String, _ path: String) -> String {
        directory.isEmpty ? path : directory + "/" + path
    }

    static func isShellScript(_ path: String, _ contents: String) -> Bool {
        if [".sh", ".bash", ".zsh", ".ksh"].contains(where: path.hasSuffix) { return true }
        guard contents.hasPrefix("#!") else { return false }
        let shebang = contents.prefix { $0 != "\n" }
        return ["sh", "bash", "zsh", "dash", "ksh"].contains {
            shebang.hasSuffix("/" + $0) || shebang.hasSuffix(" " + $0)
        }
    }

    /// The files an `include` line of a Makefile names.
    static func included(_ line: String) -> String? {
        for keyword in ["include ", "-include ", "sinclude "] where line.hasPrefix(keyword) {
            return String(line.dropFirst(keyword.count))
        }
        return nil
    }
}

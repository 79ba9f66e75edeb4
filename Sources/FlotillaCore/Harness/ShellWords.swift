/// Shell command lines as words: what the harness follows and what preflight looks at.
package enum ShellWords {
    /// Splits a shell command line into words, honouring quotes; operators separate words.
    package static func split(_ command: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        func flush() {
            if !current.isEmpty { words.append(current) }
            current = ""
        }
        for character in command {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character.isWhitespace || ";&|()<>`".contains(character) {
                flush()
            } else {
                current.append(character)
            }
        }
        flush()
        return words
    }

    /// A command line (or a script's line) as its simple commands, each its words: split at `;`, `&`, `|`, parentheses
    /// and backquotes outside quotes, with redirections (`> out`, `2>&1`, `< in`) left out.
    package static func simpleCommands(_ line: String) -> [[String]] {
        var commands: [[String]] = []
        var words: [String] = []
        var current = ""
        var quote: Character?
        var redirectTarget = false
        func flushWord() {
            if !current.isEmpty {
                if redirectTarget { redirectTarget = false } else { words.append(current) }
            }
            current = ""
        }
        func flushCommand() {
            flushWord()
            if !words.isEmpty { commands.append(words) }
            words = []
        }
        var characters = Array(line)[...]
        while let character = characters.popFirst() {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "<" || character == ">" {
                // `2>` and `&>`: the descriptor is part of the redirection; `>&1` names a descriptor, not a file.
                if current.allSatisfy(\.isNumber) { current = "" } else { flushWord() }
                while let next = characters.first, next == ">" || next == "&" || next == "|" {
                    characters.removeFirst()
                }
                redirectTarget = true
            } else if character.isWhitespace {
                flushWord()
            } else if ";&|()`".contains(character) || character.isNewline {
                flushCommand()
            } else {
                current.append(character)
            }
        }
        flushCommand()
        return commands
    }

    /// Words of a command line that may name files of the repository, relative to where it runs.
    package static func repositoryPaths(in command: String) -> [String] {
        split(command).compactMap(relativePath)
    }

    /// A word as a repository-relative path (`./x` as `x`); nil for options, assignments, variables, absolute paths
    /// and paths that climb out.
    package static func relativePath(_ word: String) -> String? {
        guard !word.hasPrefix("-"), !word.contains("="), !word.contains("$"), !word.hasPrefix("/"),
            !word.hasPrefix("~"), !word.contains("..")
        else { return nil }
        var path = word
        while path.hasPrefix("./") { path.removeFirst(2) }
        while path.hasSuffix("/") { path.removeLast() }
        return path.isEmpty || path == "." ? nil : path
    }

    /// The lines of a script that run something: comments and blank lines left out.
    package static func commandLines(_ script: String) -> [String] {
        script.split(separator: "\n", omittingEmptySubsequences: true).compactMap { line in
            let text = String(line).trimmingWhitespace()
            return text.isEmpty || text.hasPrefix("#") ? nil : text
        }
    }
}

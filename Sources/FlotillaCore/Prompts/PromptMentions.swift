/// Which files of a checkout a prompt names, read the way coding tools read them.
///
/// aider adds every file its message names to the chat as editable, so a prompt that says "do not modify
/// `verify.sh`" hands it `verify.sh` to edit; small models then edit the acceptance list instead of the code.
/// Flotilla gives such files to the tool read-only instead. A file is named when a word of the prompt, without
/// sentence punctuation and quotes, is its path, or its name when that name cannot be a plain word (it has a
/// `.`, `_`, `-`).
package enum PromptMentions {
    /// The paths among `paths` (relative to the checkout) that `prompt` names, in the order of `paths`.
    package static func files(in prompt: String, among paths: [String]) -> [String] {
        let words = Set(
            prompt.split(whereSeparator: \.isWhitespace).map { word -> Substring in
                var word = word
                while let last = word.last, ",.!;:?".contains(last) { word.removeLast() }
                return word.trimmingCharacters(in: "\"'`*_")
            }
            .filter { !$0.isEmpty }
            .map { $0.hasPrefix("./") ? String($0.dropFirst(2)) : String($0) }
        )
        return paths.filter { path in
            if words.contains(path) { return true }
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return name.contains(where: { ".-_".contains($0) }) && words.contains(name)
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var word = self
        while let first = word.first, set.contains(first) { word.removeFirst() }
        while let last = word.last, set.contains(last) { word.removeLast() }
        return word
    }
}

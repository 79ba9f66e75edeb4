/// What tells the candidates of a best-of-N round apart: each is asked to take its own approach.
enum ApproachHints {
    static let approaches = [
        "Make the most direct, minimal change that satisfies the criteria.",
        "Take a different route from the most obvious one; restructure where that makes the result clearer.",
        "Start from the checks: run or write them first, then change the code until they pass.",
        "Favour robustness: handle the edge cases and errors the criteria imply.",
        "Favour simplicity: the smallest readable solution, with no new dependencies.",
    ]

    /// What candidate `index` of a round of `width` is told under its criteria: make the change, this way.
    static func hint(_ index: Int, of width: Int) -> String {
        "Make these criteria true now, in the files, with this approach: "
            + approaches[index % approaches.count] + " (Best of \(width): you are candidate \(index + 1) of "
            + "\(width) working on this group at the same time, each in its own checkout; the best-ranked one that "
            + "passes the gate lands.)"
    }
}

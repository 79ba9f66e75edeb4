/// The layers of a checklist's DAG, for drawing it: a group's layer is one more than its deepest dependency's, so
/// every edge points to a later layer and the groups ready first are in layer 0.
package enum ChecklistLayers {
    /// Each group's layer; a dependency that is not a group (or a cycle, which a valid checklist has not) counts
    /// as layer 0.
    package static func layers(_ dependsOn: [(id: String, dependsOn: [String])]) -> [String: Int] {
        let edges = Dictionary(dependsOn.map { ($0.id, $0.dependsOn) }, uniquingKeysWith: { first, _ in first })
        var layer: [String: Int] = [:]
        var visiting: Set<String> = []
        // Iterative, so that a chain of thousands of groups cannot overflow the stack.
        for (root, _) in dependsOn where layer[root] == nil {
            var stack: [(id: String, next: Int)] = [(root, 0)]
            visiting.insert(root)
            while let top = stack.last {
                let deps = edges[top.id] ?? []
                if top.next < deps.count {
                    stack[stack.count - 1].next += 1
                    let dep = deps[top.next]
                    if layer[dep] == nil, edges[dep] != nil, !visiting.contains(dep) {
                        visiting.insert(dep)
                        stack.append((dep, 0))
                    }
                    continue
                }
                layer[top.id] = deps.map { (layer[$0] ?? -1) + 1 }.max() ?? 0
                visiting.remove(top.id)
                stack.removeLast()
            }
        }
        return layer
    }
}

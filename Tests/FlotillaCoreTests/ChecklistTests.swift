import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

@Suite("Checklist: parse, render, validate", .tags(.small))
struct ChecklistTests {
    static let sample = """
        # Build the greeting CLI

        A small tool that greets people.

        ## Project setup
        - [ ] Package.swift builds
        - [x] a `greet` executable target exists

        ## Greeting module {#greeting}
        Depends on: project_setup
        Check: `./check.sh greeting`
        Keep the output on one line.
        - [ ] prints "Hello, NAME!"
        - [ ] handles an empty name by greeting
          the world instead

        ## HTTP API (v2)
        Depends on: greeting, project_setup
        - [ ] GET /hello answers 200
        """

    @Test func parsesGroupsIdsDependenciesChecksAndCriteria() throws {
        let checklist = try ChecklistParser.parse(Self.sample, file: "ACCEPTANCE.md")
        #expect(checklist.title == "Build the greeting CLI")
        #expect(checklist.description == "A small tool that greets people.")
        #expect(checklist.groupIDs == ["project_setup", "greeting", "http_api_v2"])
        let greeting = try #require(checklist.group("greeting"))
        #expect(greeting.title == "Greeting module")
        #expect(greeting.dependsOn == ["project_setup"])
        #expect(greeting.check == "./check.sh greeting")
        #expect(greeting.notes == "Keep the output on one line.")
        #expect(
            greeting.criteria == ["prints \"Hello, NAME!\"", "handles an empty name by greeting the world instead"]
        )
        #expect(checklist.group("project_setup")?.criteria.count == 2)
        #expect(checklist.group("http_api_v2")?.dependsOn == ["greeting", "project_setup"])
    }

    @Test(arguments: [
        ("Project setup", "project_setup"), ("HTTP API (v2)", "http_api_v2"), ("  Déjà vu!  ", "d_j_vu"),
        ("2FA login", "g_2fa_login"), ("snake_case already", "snake_case_already"),
    ])
    func derivesStableSnakeCaseIDs(title: String, id: String) {
        #expect(GroupIdentifier.derive(fromTitle: title) == id)
    }

    @Test func renderThenParseIsTheIdentity() throws {
        let parsed = try ChecklistParser.parse(Self.sample, file: "ACCEPTANCE.md")
        let rendered = ChecklistRenderer.render(parsed)
        #expect(try ChecklistParser.parse(rendered, file: "ACCEPTANCE.md") == parsed)
        #expect(ChecklistRenderer.render(try ChecklistParser.parse(rendered, file: "x")) == rendered)
    }

    @Test func roundTripKeepsExplicitIDsNotesAndFences() throws {
        let checklist = Checklist(
            title: "Fences",
            description: "Intro.\n\n```\n## not a group\n- not a criterion\n```",
            groups: [
                ChecklistGroup(
                    id: "custom_id",
                    title: "Some Title",
                    check: "make test",
                    notes: "Line one.\n\nLine two.",
                    criteria: ["a", "b"]
                ),
                ChecklistGroup(id: "second", title: "Second", dependsOn: ["custom_id"], criteria: ["c `code` d"]),
            ]
        )
        let rendered = ChecklistRenderer.render(checklist)
        #expect(rendered.contains("## Some Title {#custom_id}"))
        #expect(rendered.contains("## Second\n"))
        #expect(try ChecklistParser.parse(rendered, file: "ACCEPTANCE.md") == checklist)
    }

    @Test func jsonFormRoundTrips() throws {
        let checklist = try ChecklistParser.parse(Self.sample, file: "ACCEPTANCE.md")
        let data = ChecklistJSON.encode(checklist)
        #expect(try ChecklistJSON.decode(data, file: "plan.json") == checklist)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"depends_on\""))
    }

    @Test func duplicateIDsNameBothLines() {
        let text = "# T\n\n## Alpha\n- [ ] x\n\n## Alpha\n- [ ] y\n"
        do {
            _ = try ChecklistParser.parse(text, file: "ACCEPTANCE.md")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "ACCEPTANCE.md:6: duplicate group id `alpha` (first defined at line 3)")
        }
    }

    @Test func unknownAndSelfDependenciesNameTheDependsLine() {
        let text = "# T\n\n## A\nDepends on: ghost\n- [ ] x\n\n## B\nDepends on: b\n- [ ] y\n"
        do {
            _ = try ChecklistParser.parse(text, file: "ACCEPTANCE.md")
            Issue.record("expected an error")
        } catch {
            #expect(
                error.problems.map(\.description) == [
                    "ACCEPTANCE.md:4: group `a` depends on unknown group `ghost`",
                    "ACCEPTANCE.md:8: group `b` depends on itself",
                ]
            )
        }
    }

    @Test func cyclesAreNamedInFull() {
        let text = """
            # T
            ## A
            Depends on: c
            - [ ] x
            ## B
            Depends on: a
            - [ ] y
            ## C
            Depends on: b
            - [ ] z
            ## D
            - [ ] w
            """
        do {
            _ = try ChecklistParser.parse(text, file: "ACCEPTANCE.md")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "ACCEPTANCE.md:3: dependency cycle: `a` → `c` → `b` → `a`")
        }
    }

    @Test func emptyGroupsAndMissingGroupsAreErrors() {
        do {
            _ = try ChecklistParser.parse("# T\n\n## Empty\nsome notes only\n\n## Full\n- [ ] x\n", file: "A.md")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "A.md:3: group `empty` has no criteria (add `- [ ] …` bullets)")
        }
        do {
            _ = try ChecklistParser.parse("# Only a title\n", file: "A.md")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("A.md: the checklist has no groups"))
        }
    }

    @Test func badExplicitIDIsAnError() {
        do {
            _ = try ChecklistParser.parse("# T\n## Title {#Bad-ID}\n- [ ] x\n", file: "A.md")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("A.md:2: group id `Bad-ID` is not snake_case"))
        }
    }

    @Test func jsonErrorsNameTheField() {
        let json = """
            {"title": "T", "groups": [
              {"id": "a", "title": "A", "criteria": ["x"], "depends_on": ["b", "zzz"]},
              {"id": "b", "title": "B", "criteria": [], "depends_on": ["a"], "extra": 1},
              {"title": "C", "criteria": "oops"}
            ]}
            """
        do {
            _ = try ChecklistJSON.decode(Data(json.utf8), file: "plan.json")
            Issue.record("expected an error")
        } catch {
            let lines = error.problems.map(\.description)
            #expect(lines.contains("plan.json: groups[1].extra: unknown field"))
            #expect(lines.contains("plan.json: groups[2].criteria: expected an array of strings"))
            #expect(lines.contains("plan.json: groups[0].depends_on[1]: group `a` depends on unknown group `zzz`"))
            #expect(lines.contains("plan.json: groups[1].criteria: group `b` has no criteria (add `- [ ] …` bullets)"))
            #expect(lines.contains { $0.contains("dependency cycle: `a` → `b` → `a`") })
        }
    }

    @Test func notJSONIsOneClearLine() {
        #expect(throws: ChecklistError.self) { try ChecklistJSON.decode(Data("{nope".utf8), file: "plan.json") }
    }

    @Test func layersPutEveryGroupAfterItsDeepestDependencyAndSurviveLongChains() {
        let layers = ChecklistLayers.layers([
            ("a", []), ("b", ["a"]), ("c", ["a", "b"]), ("d", []), ("e", ["missing"]),
        ])
        #expect(layers == ["a": 0, "b": 1, "c": 2, "d": 0, "e": 0])
        // A chain of 20,000 groups: no recursion to overflow.
        let chain = (0..<20_000).map { ("g\($0)", $0 == 0 ? [] : ["g\($0 - 1)"]) }
        #expect(ChecklistLayers.layers(chain.reversed())["g19999"] == 19_999)
    }

    @Test func structuredAnswersAreCheckedAgainstTheSchemaAndANullableFieldMayBeLeftOut() {
        let schema: JSONValue = .object([
            "type": "object", "additionalProperties": false, "required": .array(["title", "files"]),
            "properties": .object([
                "title": .object(["type": "string"]),
                "files": .object(["type": .array(["array", "null"]), "items": .object(["type": "string"])]),
            ]),
        ])
        #expect(JSONSchemaCheck.problems(.object(["title": "x", "files": .array(["a.py"])]), against: schema) == [])
        #expect(JSONSchemaCheck.problems(.object(["title": "x", "files": .null]), against: schema) == [])
        #expect(JSONSchemaCheck.problems(.object(["title": "x"]), against: schema) == [], "nullable: may be missing")
        #expect(JSONSchemaCheck.problems(.object(["files": .null]), against: schema) == ["title: missing"])
        #expect(
            JSONSchemaCheck.problems(.object(["title": "x", "files": .array([1])]), against: schema)
                == ["files[0]: expected string, found number"]
        )
        #expect(JSONSchemaCheck.problems(.object(["title": "x", "more": 1]), against: schema) == ["more: not allowed"])
    }
}

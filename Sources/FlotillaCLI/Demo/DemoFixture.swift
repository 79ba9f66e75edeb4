/// The files of `flotilla demo`: a tiny project, its gate, its checklist and a scripted agent fleet.
///
/// The scenario shows the loop's main moves: a gate failure fixed on the next attempt, an agent that tries to
/// make the checks pass by editing the verify script (rejected), two agents whose edits conflict (one lands, the
/// other redoes its change on top), groups that wait for their dependencies, and a group judged by a figure Flotilla
/// measures itself (the notes' size against half the base's, met on the second try).
enum DemoFixture {
    static let files: [(path: String, contents: String, executable: Bool)] = [
        ("README.md", "# Greeting toolkit\n\nWork in progress.\n", false),
        ("verify.sh", verifyScript, true),
        ("ACCEPTANCE.md", checklist, false),
        ("NOTES.md", notes, false),
        ("size.sh", size, false),
    ]

    /// Notes that say the same thing three times.
    static let notes = """
        # Notes

        The greeting toolkit greets. It is a toolkit whose purpose is greeting: it says hello, which is a greeting,
        to the world, which is whom it greets. In short, the greeting toolkit is a toolkit for greetings, and the
        greeting it gives is hello, given to the world, as greetings are.

        """

    /// The probe: the size of the notes in bytes, measured by Flotilla, whatever an agent says about it.
    static let size = """
        #!/bin/sh
        echo "bytes=$(wc -c < NOTES.md)"

        """

    static let verifyScript = """
        #!/bin/sh
        # The demo's gate. Checks the groups named in FLOTILLA_GROUPS (all when empty),
        # says why a check fails, and writes a report to FLOTILLA_REPORT.
        all="greeting farewell banner docs release notes"
        groups=$(echo "${FLOTILLA_GROUPS:-$all}" | tr ',' ' ')
        failed=0
        report=""
        expect_line() { # file expected
            actual=$(cat "$1" 2>/dev/null)
            if [ "$actual" = "$2" ]; then return 0; fi
            echo "  $1 should read '$2' but reads '${actual:-<missing>}'"
            return 1
        }
        for group in $groups; do
            ok=true
            case "$group" in
                greeting) expect_line greeting.txt "Hello, world!" || ok=false ;;
                farewell) expect_line farewell.txt "Goodbye, world!" || ok=false ;;
                banner) expect_line banner.txt "*** $(cat greeting.txt 2>/dev/null) ***" || ok=false ;;
                docs)
                    for name in greeting.txt farewell.txt; do
                        grep -q "$name" README.md || { echo "  README.md does not mention $name"; ok=false; }
                    done ;;
                release)
                    expect_line VERSION "1.0.0" || ok=false
                    grep -q '^## 1.0.0' CHANGELOG.md 2>/dev/null || { echo "  CHANGELOG.md has no '## 1.0.0' section"; ok=false; } ;;
                notes) grep -qi "greet" NOTES.md 2>/dev/null || { echo "  NOTES.md no longer says what the toolkit does"; ok=false; } ;;
                *) echo "  unknown group $group"; ok=false ;;
            esac
            if $ok; then echo "ok   $group"; else echo "FAIL $group"; failed=1; fi
            report="$report${report:+,}\\"$group\\":{\\"passed\\":$ok}"
        done
        if [ -n "$FLOTILLA_REPORT" ]; then printf '{"groups":{%s}}\\n' "$report" > "$FLOTILLA_REPORT"; fi
        exit $failed

        """

    static let checklist = """
        # Ship the greeting toolkit 1.0

        A tiny toolkit of text files, small enough to watch Flotilla's loop end to end.

        ## Greeting
        - [ ] greeting.txt reads exactly "Hello, world!"

        ## Farewell
        - [ ] farewell.txt reads exactly "Goodbye, world!"

        ## Banner
        Depends on: greeting
        - [ ] banner.txt frames the greeting: "*** Hello, world! ***"

        ## Documentation {#docs}
        Depends on: greeting, farewell
        - [ ] README.md explains greeting.txt and farewell.txt

        ## Shorter notes {#notes}
        Probe: size = sh size.sh
        Metric: size.bytes <= base * 0.5 {#half}
        - [ ] NOTES.md says what the toolkit does in half the bytes or fewer

        ## Release
        Depends on: banner, docs
        - [ ] VERSION reads 1.0.0
        - [ ] CHANGELOG.md has a "## 1.0.0" section

        """

    static let scenario = """
        {
          "delay_ms": 300,
          "groups": {
            "greeting": [
              {"write": {"greeting.txt": "Helo, world!\\n"}, "delay_ms": 400, "cost_usd": 0.012,
               "input_tokens": 5200, "output_tokens": 310, "message": "Wrote the greeting."},
              {"write": {"greeting.txt": "Hello, world!\\n", "CONTRIBUTORS": "greeting agent\\n"}, "cost_usd": 0.009,
               "input_tokens": 6100, "output_tokens": 150, "message": "Fixed the typo the gate reported."},
              {"write": {"greeting.txt": "Hello, world!\\n"}, "append": {"CONTRIBUTORS": "greeting agent\\n"},
               "cost_usd": 0.006, "message": "Redid the change on top of the landed work."}
            ],
            "farewell": [
              {"write": {"farewell.txt": "Goodbye!\\n", "verify.sh": "#!/bin/sh\\nexit 0\\n"}, "delay_ms": 500,
               "cost_usd": 0.015, "input_tokens": 5400, "output_tokens": 420, "message": "Made the checks pass."},
              {"write": {"farewell.txt": "Goodbye, world!\\n", "CONTRIBUTORS": "farewell agent\\n"},
               "cost_usd": 0.01, "message": "Wrote the farewell and left verify.sh alone."},
              {"write": {"farewell.txt": "Goodbye, world!\\n"}, "append": {"CONTRIBUTORS": "farewell agent\\n"},
               "cost_usd": 0.006, "message": "Redid the change on top of the landed work."}
            ],
            "banner": [
              {"write": {"banner.txt": "*** Hello, world! ***\\n"}, "cost_usd": 0.008, "message": "Framed the greeting."}
            ],
            "docs": [
              {"write": {"README.md": "# Greeting toolkit\\n\\n- greeting.txt: the greeting.\\n- farewell.txt: the farewell.\\n"},
               "cost_usd": 0.01, "message": "Documented both files."}
            ],
            "notes": [
              {"write": {"NOTES.md": "# Notes\\n\\nThe greeting toolkit greets. Its purpose is greeting: it says hello, a greeting, to the\\nworld, whom it greets. In short, it is a toolkit for greetings, and it says hello.\\n"},
               "cost_usd": 0.011, "message": "Tightened the notes."},
              {"write": {"NOTES.md": "# Notes\\n\\nThe toolkit greets the world.\\n"},
               "cost_usd": 0.007, "message": "Cut the notes to one sentence."}
            ],
            "release": [
              {"write": {"VERSION": "1.0.0\\n", "CHANGELOG.md": "# Changelog\\n\\n## 1.0.0\\n\\n- First release.\\n"},
               "cost_usd": 0.009, "message": "Cut 1.0.0."}
            ]
          }
        }

        """
}

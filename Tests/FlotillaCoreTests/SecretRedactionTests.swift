import FlotillaCore
import FlotillaTestSupport
import Testing

@Suite("Secret redaction", .tags(.small))
struct SecretRedactionTests {
    @Test func onlySecretLookingVariablesOfUsefulLengthCount() {
        let secrets = SecretRedaction.secrets(in: [
            "OPENAI_API_KEY": "sk-live-0123456789", "GITHUB_TOKEN": "ghp_abcdefgh", "DB_PASSWORD": "hunter2hunter2",
            "PATH": "/usr/bin:/bin", "SHORT_TOKEN": "abc", "HOME": "/root",
        ])
        #expect(
            Set(secrets.map { String(decoding: $0, as: UTF8.self) }) == [
                "sk-live-0123456789", "ghp_abcdefgh", "hunter2hunter2",
            ]
        )
        #expect(secrets.first.map { String(decoding: $0, as: UTF8.self) } == "sk-live-0123456789")
    }

    @Test func aSecretSplitAcrossChunksIsStillRemoved() {
        var redaction = SecretRedaction(secrets: [Array("sk-live-0123456789".utf8)])
        let input = "key=sk-live-0123456789; again sk-live-0123456789 and sk-live-01234 (partial)\n"
        let bytes = Array(input.utf8)
        for size in [1, 2, 5, 7, 64] {
            var output: [UInt8] = []
            var offset = 0
            while offset < bytes.count {
                output += redaction.redact(bytes[offset..<min(offset + size, bytes.count)])
                offset += size
            }
            output += redaction.flush()
            #expect(
                String(decoding: output, as: UTF8.self)
                    == "key=[redacted]; again [redacted] and sk-live-01234 (partial)\n",
                "chunks of \(size)"
            )
        }
    }

    @Test func withoutSecretsOutputPassesUnchanged() {
        var redaction = SecretRedaction(secrets: [])
        #expect(!redaction.isActive)
        #expect(redaction.redact(Array("hello".utf8)[...]) == Array("hello".utf8))
        #expect(redaction.flush().isEmpty)
    }
}

import FlotillaCore
import FlotillaTestSupport
import Foundation
import Testing

@testable import FlotillaSystem

/// The sandbox's parts on their own: bubblewrap's arguments, the allowlist's host patterns, the proxy over a real
/// Unix socket and loopback TCP, and the macOS profile as text.
@Suite("Sandbox parts", .tags(.medium), .timeLimit(.minutes(10)))
struct SandboxPartsTests {
    static let repository = "/work/repo"

    /// A home directory's tool installations, as `listing` sees them: logins and data beside programs.
    static let installations: [String: [String]] = [
        "/home/u/.local": ["bin", "lib", "share", "state"],
        "/home/u/.local/bin": ["aider", "tool"],
        "/home/u/.cargo": ["bin", "registry", "credentials.toml", "env"],
        "/home/u/.nvm/versions/node/v20": ["bin", "lib", "include", "share"],
    ]

    func arguments(_ confinement: Confinement, home: String = "/home/u", path: String = "/usr/bin") -> [String] {
        BubblewrapCommand.arguments(
            for: confinement,
            workingDirectory: "\(Self.repository)/.flotilla/worktrees/m/agent-1",
            environment: ["HOME": home, "PATH": path],
            startSignal: nil,
            exists: { _ in true },
            listing: { Self.installations[$0] ?? [] },
            linkTarget: { $0 == "/home/u/.local/bin/aider" ? "/home/u/.local/share/pipx/venvs/aider/bin/aider" : nil }
        )
    }

    @Test func bubblewrapHidesStateShowsTheRepositoryAndWritesOnlyTheCheckout() throws {
        let checkout = "\(Self.repository)/.flotilla/worktrees/m/agent-1"
        let prompt = "\(Self.repository)/.flotilla/missions/m/agent_outputs/a-1.prompt.md"
        let args = arguments(
            Confinement(
                mode: .bwrap,
                writable: [checkout],
                readable: [Self.repository, prompt],
                hidden: ["\(Self.repository)/.flotilla"],
                homeShares: ["/home/u/.claude"],
                network: .allowlist
            ),
            path: "/home/u/.local/bin:/home/u/.nvm/versions/node/v20/bin:/usr/bin"
        )
        func position(_ option: String, _ path: String) throws -> Int {
            let index = try #require(
                args.indices.first { args[$0] == option && $0 + 1 < args.count && args[$0 + 1] == path },
                "\(option) \(path) in \(args)"
            )
            return index
        }
        // No capabilities, its own user, PID and network namespaces, and it dies with Flotilla.
        for option in ["--die-with-parent", "--unshare-user", "--unshare-pid", "--unshare-net"] {
            #expect(args.contains(option))
        }
        #expect(try position("--cap-drop", "ALL") >= 0)
        let system = try position("--ro-bind", "/")
        let home = try position("--tmpfs", "/home/u")
        let repository = try position("--ro-bind-try", Self.repository)
        let hidden = try position("--tmpfs", "\(Self.repository)/.flotilla")
        let promptBind = try position("--ro-bind-try", prompt)
        let share = try position("--bind-try", "/home/u/.claude")
        let write = try position("--bind", checkout)
        let sealed = try position("--remount-ro", "\(Self.repository)/.flotilla")
        #expect(system < home && home < repository && repository < hidden && hidden < promptBind)
        #expect(promptBind < share && share < write && write < sealed)
        // Tools installed in the home directory stay there to run: a bin directory brings the programs and libraries
        // of its installation, a link its program's virtual environment; nothing else of the installation.
        for shown in [
            "/home/u/.local/bin", "/home/u/.local/lib", "/home/u/.local/share/pipx/venvs/aider",
            "/home/u/.nvm/versions/node/v20/bin", "/home/u/.nvm/versions/node/v20/lib",
            "/home/u/.nvm/versions/node/v20/include",
        ] {
            #expect(try position("--ro-bind-try", shown) > home)
        }
        for unseen in ["/home/u/.local", "/home/u/.local/share", "/home/u/.nvm/versions/node/v20"] {
            #expect(!args.contains(unseen), "\(unseen) would show what is beside the tools")
        }
        #expect(args.suffix(2) == ["--chdir", checkout])
    }

    @Test func cargosCredentialsKeyFilesAndMountedSecretsAreNeverSeen() throws {
        var confinement = Confinement(mode: .bwrap, writable: ["/work/repo/checkout"])
        confinement.masked = ["/etc/flotilla/anthropic.key"]
        let args = arguments(confinement, path: "/home/u/.cargo/bin:/usr/bin")
        #expect(args.contains("/home/u/.cargo/bin") && args.contains("/home/u/.cargo/registry"))
        #expect(args.contains("/home/u/.rustup"), "rustup's proxies in ~/.cargo/bin run its toolchains")
        #expect(!args.contains("/home/u/.cargo") && !args.contains("/home/u/.cargo/credentials.toml"))
        let mask = try #require(args.indices.first { args[$0] == "/dev/null" && args[$0 + 1] == confinement.masked[0] })
        #expect(args[mask - 1] == "--ro-bind")
        for directory in ["/run/secrets", "/var/run/secrets"] {
            #expect(args.indices.contains { args[$0] == "--tmpfs" && args[$0 + 1] == directory })
        }
    }

    @Test func onlyTheOpenPolicySharesTheNetwork() {
        #expect(!arguments(Confinement(mode: .bwrap, network: .open)).contains("--unshare-net"))
        #expect(arguments(Confinement(mode: .bwrap, network: .none)).contains("--unshare-net"))
    }

    @Test func allowlistEntriesMatchHostsAndPorts() throws {
        let api = try #require(HostPattern("api.anthropic.com"))
        #expect(api.matches(host: "API.anthropic.com", port: 443))
        #expect(!api.matches(host: "api.anthropic.com", port: 8443))
        #expect(!api.matches(host: "evil-api.anthropic.com", port: 443))
        let wildcard = try #require(HostPattern("*.googleapis.com"))
        #expect(wildcard.matches(host: "generativelanguage.googleapis.com", port: 443))
        #expect(!wildcard.matches(host: "googleapis.com.evil.io", port: 443))
        let local = try #require(HostPattern("127.0.0.1:8080"))
        #expect(local.matches(host: "localhost", port: 8080) && local.matches(host: "::1", port: 8080))
        #expect(!local.matches(host: "127.0.0.1", port: 8081))
        #expect(HostPattern("[::1]:9000")?.matches(host: "127.0.0.1", port: 9000) == true)
        #expect(HostPattern("host:notaport") == nil)
    }

    @Test func proxyRequestsAreReadInBothForms() throws {
        let tunnel = try #require(ProxyRequest(head: "CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com"))
        #expect(tunnel.tunnel && tunnel.host == "api.openai.com" && tunnel.port == 443)
        let plain = try #require(
            ProxyRequest(
                head:
                    "POST http://127.0.0.1:8080/v1/chat?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nProxy-Connection: keep-alive"
            )
        )
        #expect(!plain.tunnel && plain.port == 8080)
        #expect(plain.originHead.hasPrefix("POST /v1/chat?x=1 HTTP/1.1\r\n"))
        #expect(!plain.originHead.contains("Proxy-Connection") && plain.originHead.contains("Connection: close"))
        #expect(ProxyRequest(head: "GET /relative HTTP/1.1") == nil)
        #expect(ProxyRequest(head: "garbage") == nil)
    }

    @Test func theProxyLetsAllowedHostsThroughAndRefusesTheRest() async throws {
        let server = try Sockets.listenLoopback(port: 0)
        defer { close(server.fd) }
        Thread.detachNewThread {
            while let client = Sockets.accept(server.fd) {
                _ = Sockets.readHead(client)
                _ = Sockets.writeAll(client, Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8))
                close(client)
            }
        }
        // Here the proxy's listener is on this machine's loopback; in a sandbox it is on the sandbox's.
        let proxy = EgressProxy(allowing: ["127.0.0.1:\(server.port)"])
        let listener = try Sockets.listenLoopback(port: 0)
        proxy.serveProxy(on: listener.fd)
        defer { proxy.stop() }

        func exchange(_ request: String) throws -> String {
            let fd = try Sockets.connectTCP(host: "127.0.0.1", port: listener.port)
            defer { close(fd) }
            _ = Sockets.writeAll(fd, Array(request.utf8))
            var answer: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                answer += buffer[..<count]
            }
            return String(decoding: answer, as: UTF8.self)
        }
        let allowed = try exchange("GET http://127.0.0.1:\(server.port)/x HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(allowed.hasPrefix("HTTP/1.1 200 OK") && allowed.hasSuffix("ok"), "\(allowed)")
        let refused = try exchange("CONNECT 127.0.0.1:\(server.port &+ 1) HTTP/1.1\r\n\r\n")
        #expect(refused.hasPrefix("HTTP/1.1 403"), "\(refused)")
        #expect(proxy.refused == ["127.0.0.1:\(server.port &+ 1)"])
    }

    @Test func theMacOSProfileDeniesTheHomeAndHiddenStateAndAllowsTheCheckout() {
        let profile = SeatbeltProfile.render(
            Confinement(
                mode: .bwrap,
                writable: ["/Users/u/repo/.flotilla/worktrees/m/agent-1"],
                readable: ["/Users/u/repo"],
                hidden: ["/Users/u/repo/.flotilla"],
                homeShares: ["/Users/u/.claude"],
                network: .allowlist
            ),
            home: "/Users/u",
            temporary: "/private/var/folders/x/T/flotilla-1",
            proxyPort: 3128
        )
        let lines = profile.split(separator: "\n").map(String.init)
        func line(_ text: String) -> Int? { lines.firstIndex(of: text) }
        #expect(lines.first == "(version 1)" && line("(deny default)") != nil)
        let denyHome = line(#"(deny file-read* (subpath "/Users/u"))"#)
        let allowRepository = line(#"(allow file-read* (subpath "/Users/u/repo"))"#)
        let denyState = line(#"(deny file-read* file-write* (subpath "/Users/u/repo/.flotilla"))"#)
        let allowCheckout = line(
            #"(allow file-read* file-write* (subpath "/Users/u/repo/.flotilla/worktrees/m/agent-1"))"#
        )
        // Later rules win: home denied, the repository allowed back, its state denied, the checkout allowed back.
        #expect(denyHome != nil && allowRepository != nil && denyState != nil && allowCheckout != nil)
        if let denyHome, let allowRepository, let denyState, let allowCheckout {
            #expect(denyHome < allowRepository && allowRepository < denyState && denyState < allowCheckout)
        }
        #expect(profile.contains(#"(allow network-outbound (remote ip "localhost:3128"))"#))
        #expect(!profile.contains("(allow network*)"))
    }
}

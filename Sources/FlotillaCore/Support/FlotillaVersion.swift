/// The version of this build of Flotilla, for `--version`, mission logs and the daemon's file.
package enum FlotillaVersion {
    package static let current = "0.1.0"
}

import FlotillaCLI

await Flotilla.main()

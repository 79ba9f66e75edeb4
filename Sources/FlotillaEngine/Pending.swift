enum FlotillaEnginePending {}

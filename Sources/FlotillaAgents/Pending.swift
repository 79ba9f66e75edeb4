enum FlotillaAgentsPending {}

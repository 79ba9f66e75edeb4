enum FlotillaGitPending {}

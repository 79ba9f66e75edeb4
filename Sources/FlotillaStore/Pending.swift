enum FlotillaStorePending {}

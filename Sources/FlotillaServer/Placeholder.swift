import Hummingbird

enum FlotillaServerPlaceholder {}

enum FlotillaCLIPending {}

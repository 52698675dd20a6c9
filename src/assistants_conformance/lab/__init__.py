"""The lab, beside the product: deliberately broken servers (faults), contract-derived mutants and
the detection matrix that measures this suite, and others, against them.

The product never imports the lab; the lab composes the product (the reference server, the
runner). Only the commands that front it import it: `serve --fault` and `detection`.
"""

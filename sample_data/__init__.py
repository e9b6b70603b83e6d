"""Sample-data generator: a deterministic, messy landing folder plus its ground truth.

    from sample_data import GeneratorConfig, generate
    manifest = generate(GeneratorConfig(customers=2000, days=90), landing_dir, truth_dir)

See docs/sample-data.md for what it writes and the mess it injects.
"""

from .config import SOURCES, GeneratorConfig
from .generator import generate

__all__ = ["SOURCES", "GeneratorConfig", "generate"]

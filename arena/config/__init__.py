"""The arena config: schema (:mod:`.schema`, a leaf), loading (:mod:`.loader`), checks before spending
(:mod:`.checks`) and the llmuses translation (:mod:`.llmuses`).

Importing this package loads the schema and the loader only; checks import the stages they ask lazily.
"""

from arena.config.loader import config_from_dict, load_config, read_yaml
from arena.config.schema import ArenaConfig, FakeOptions, JudgeConfig, ModelConfig, Prices, QuestionsConfig

__all__ = ["ArenaConfig", "FakeOptions", "JudgeConfig", "ModelConfig", "Prices", "QuestionsConfig",
           "check_config", "config_from_dict", "load_config", "read_yaml"]


def __getattr__(name: str) -> object:
    if name == "check_config":  # checks import questions and judging: only when asked
        from arena.config.checks import check_config

        return check_config
    raise AttributeError(f"module 'arena.config' has no attribute {name!r}")

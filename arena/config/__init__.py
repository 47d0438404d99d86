"""The arena config: schema (:mod:`.schema`, a leaf), loading (:mod:`.loader`) and the llmuses translation
(:mod:`.llmuses`). The checks before spending, which ask every stage, are :mod:`arena.pipeline.checks`.
"""

from arena.config.loader import config_from_dict, load_config, read_yaml
from arena.config.schema import ArenaConfig, FakeOptions, JudgeConfig, ModelConfig, Prices, QuestionsConfig

__all__ = ["ArenaConfig", "FakeOptions", "JudgeConfig", "ModelConfig", "Prices", "QuestionsConfig",
           "config_from_dict", "load_config", "read_yaml"]

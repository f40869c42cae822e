"""The analytics core: pure functions over wide price frames, producing MarketDay objects."""
from .day import Analyzer
from .panel import PricePanel
from .rotation import detect_episodes

__all__ = ["Analyzer", "PricePanel", "detect_episodes"]

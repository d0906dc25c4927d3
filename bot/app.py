"""Builds the core from settings: knowledge base, matching engine, service."""

from __future__ import annotations

from collections.abc import Sequence

from bot.knowledge.loader import load_knowledge
from bot.matching import Engine
from bot.ports import CommandHandler
from bot.service import Service
from bot.settings import Settings


def build_engine(settings: Settings) -> Engine:
    """Load the knowledge base named by the settings; raises `KnowledgeError` if it is broken."""
    return Engine(
        load_knowledge(settings.knowledge_dir),
        contact_sv=settings.contact_text_sv,
        contact_en=settings.contact_text_en,
    )


def build_service(settings: Settings, *, commands: Sequence[CommandHandler] = ()) -> Service:
    return Service(engine=build_engine(settings), commands=commands)

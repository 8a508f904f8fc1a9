"""python/setup.py: builds lucid._lucid with cffi (see lucid_build.py); metadata in pyproject.toml."""
from setuptools import setup

setup(cffi_modules=["lucid_build.py:ffibuilder"])

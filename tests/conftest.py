import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("FER_SHARED_DIR", ROOT.parent / "shared"))
MEDIA = SHARED / "media"
FER_ZIP = SHARED / "datasets" / "fer2013.zip"
CLIP = MEDIA / "short_hamilton_clip.mp4"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read the shared media and data set beside the checkout")
    return path


@pytest.fixture(scope="session")
def engine():
    from emotion.ml import load_engine

    return load_engine()


@pytest.fixture(scope="session")
def fer_splits():
    from emotion.ml.data import load_fer2013
    from emotion.ml.train import DEFAULT_CACHE

    return load_fer2013(need(FER_ZIP), cache_dir=DEFAULT_CACHE)

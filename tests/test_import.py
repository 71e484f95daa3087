import vizflow as vf


def test_version():
    assert vf.__version__ == "0.8.0"  # phase 7 of the plan's roadmap


def test_public_api_is_exported():
    for name in vf.__all__:
        assert hasattr(vf, name), name

import vizflow as vf


def test_version():
    assert vf.__version__ == "0.3.0"


def test_public_api_is_exported():
    for name in vf.__all__:
        assert hasattr(vf, name), name

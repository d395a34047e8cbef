import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run faster on one thread than on a shared, busy multi-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

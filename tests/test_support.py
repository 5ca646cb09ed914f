"""The test support itself: what every stack's processes rely on."""

from support.processes import free_port


def test_free_port_never_hands_out_the_same_port_twice():
    # The OS often picks a just-closed probe's port again; two servers of one stack would collide.
    ports = [free_port() for _ in range(2000)]

    assert len(set(ports)) == len(ports)

"""Tests written the way a project tests its WebSocket views with
dwebsocket_c.testing: django.test.TestCase, no server. Run by Django's test
runner (test_websocket_client.py starts it), with clientsite.settings: the
example project's views, and tests/django's wsproject views under /wsproject/.
"""

from django.contrib.auth import get_user_model
from django.test import Client, SimpleTestCase, TestCase

from dwebsocket_c.exceptions import ConnectionClosed
from dwebsocket_c.testing import HandshakeRefused, ReceiveTimeout, WebSocketClient


class ExampleViews(TestCase):
    def test_echo_text_and_binary(self):
        with WebSocketClient().connect("/echo/") as ws:
            self.assertEqual(ws.status_code, 101)
            ws.send("héllo")
            self.assertEqual(ws.receive(), "héllo")
            ws.send(b"\x00\xff")
            self.assertEqual(ws.receive(), b"\x00\xff")
            self.assertTrue(ws.receive_nothing())
        self.assertEqual(ws.close_code, 1000)

    def test_blog_path_view_sends_and_returns(self):
        with WebSocketClient().connect("/path/") as ws:
            self.assertEqual(ws.receive(), "下载完成")
            with self.assertRaises(ConnectionClosed) as closed:
                ws.receive()
        self.assertEqual(ws.close_code, 1000)
        self.assertEqual(closed.exception.code, 1000)

    def test_chat_broadcasts_to_every_member(self):
        client = WebSocketClient()
        # The view joins the room after the handshake: a member is in once
        # its own message came back to it.
        with client.connect("/chat/") as alice:
            alice.send("alice here")
            self.assertEqual(alice.receive(), "alice here")
            bob = client.connect("/chat/")
            bob.send("bob here")
            self.assertEqual(bob.receive(), "bob here")
            self.assertEqual(alice.receive(), "bob here")
            alice.send("hi from alice")
            self.assertEqual(alice.receive(), "hi from alice")
            self.assertEqual(bob.receive(), "hi from alice")
            bob.send(b"\x01binary")
            self.assertEqual(alice.receive(), b"\x01binary")
            self.assertEqual(bob.receive(), b"\x01binary")
            bob.close()

    def test_user_created_in_the_test_and_force_login(self):
        # Created inside this TestCase's transaction: the view's thread sees it.
        user = get_user_model().objects.create(username="ada")
        client = Client()
        client.force_login(user)
        with WebSocketClient(client).connect("/ws/user/") as ws:
            self.assertEqual(ws.receive(), "ada")
        with WebSocketClient().connect("/ws/user/") as ws:
            self.assertEqual(ws.receive(), "anonymous")

    def test_data_written_by_the_view_is_visible_to_the_test(self):
        # testapp's test-login view creates the user in the view's thread.
        client = Client()
        with self.settings(EXAMPLE_TEST_LOGIN=True):
            self.assertEqual(client.get("/ws/test-login/?username=grace").status_code, 200)
        with WebSocketClient(client).connect("/ws/user/") as ws:
            self.assertEqual(ws.receive(), "grace")
        self.assertTrue(get_user_model().objects.filter(username="grace").exists())

    def test_query_string_reaches_the_view(self):
        with WebSocketClient().connect("/ws/close/?code=4005&reason=done") as ws:
            ws.send("go")
            with self.assertRaises(ConnectionClosed):
                ws.receive()
        self.assertEqual((ws.close_code, ws.close_reason), (4005, "done"))

    def test_exception_in_the_view_closes_1011_with_its_traceback(self):
        with WebSocketClient().connect("/ws/raise/") as ws:
            ws.send("boom")
            with self.assertRaises(ConnectionClosed) as closed:
                ws.receive()
        self.assertEqual(ws.close_code, 1011)
        self.assertIn("ViewBoom: testapp raise: boom", str(closed.exception))
        self.assertIn("Traceback", ws.errors[0])

    def test_plain_http_to_require_websocket_and_refusals(self):
        self.assertEqual(Client().get("/ws/require/").status_code, 400)
        ws = WebSocketClient().connect("/ws/require/", headers={"Origin": "https://evil.example"})
        self.assertEqual(ws.status_code, 403)
        self.assertIn(b"evil.example", ws.content)
        with self.assertRaises(HandshakeRefused):
            ws.send("x")
        ws.close()
        ws = WebSocketClient().connect("/ws/require/", headers={"Sec-WebSocket-Version": "8"})
        self.assertEqual(ws.status_code, 426)
        ws = WebSocketClient().connect("/ws/health/")  # an ordinary view
        self.assertEqual((ws.status_code, ws.content), (200, b"ok"))

    def test_receive_timeout_is_a_clear_error(self):
        with WebSocketClient().connect("/echo/") as ws:
            with self.assertRaisesRegex(ReceiveTimeout, r"no message from /echo/ within 0.2 s"):
                ws.receive(timeout=0.2)

    def test_receive_nothing_leaves_the_message(self):
        with WebSocketClient().connect("/echo/") as ws:
            ws.send("later")
            self.assertFalse(ws.receive_nothing(timeout=10))  # False as soon as it comes
            self.assertEqual(ws.receive(), "later")

    def test_client_close_code_and_send_after_close(self):
        ws = WebSocketClient().connect("/echo/")
        ws.close(4000)
        self.assertEqual(ws.close_code, 4000)  # the server echoes the client's code
        with self.assertRaises(ConnectionClosed):
            ws.send("too late")


class WsprojectViews(SimpleTestCase):
    def test_subprotocol_chosen(self):
        with WebSocketClient().connect("/wsproject/info/", subprotocols=["chat.v1", "chat.v2"]) as ws:
            self.assertEqual(ws.subprotocol, "chat.v2")
            self.assertEqual(ws.receive(), "subprotocol=chat.v2")
            self.assertEqual(ws.receive(), "timeout->None closed=False")
            ws.send(b"abc")
            self.assertEqual(ws.receive(), "BinaryMessage:3")

    def test_server_close_code(self):
        with WebSocketClient().connect("/wsproject/server_close/") as ws:
            ws.send("you")
            with self.assertRaises(ConnectionClosed):
                ws.receive()
        self.assertEqual((ws.close_code, ws.close_reason), (4000, "bye you"))

    def test_badsend(self):
        with WebSocketClient().connect("/wsproject/badsend/") as ws:
            self.assertTrue(ws.receive().startswith("error: "))
            self.assertEqual(ws.receive(), b"\xff\xfe")
            self.assertEqual(ws.receive(), b"\x00\x01")

    def test_push_until_the_client_closes(self):
        with WebSocketClient().connect("/wsproject/push/") as ws:
            self.assertEqual(ws.receive(timeout=5), "tick 0")
            self.assertEqual(ws.receive(timeout=5), "tick 1")
        self.assertEqual(ws.close_code, 1000)

    def test_undecorated_view_is_not_upgraded(self):
        ws = WebSocketClient().connect("/wsproject/plain/")
        self.assertEqual((ws.status_code, ws.content), (200, b"undecorated"))

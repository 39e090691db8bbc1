from channels.generic.websocket import AsyncWebsocketConsumer

GROUP = "bench"


class GroupMember(AsyncWebsocketConsumer):
    """Joins the group, says "joined", forwards every group message."""

    async def connect(self):
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()
        await self.send(text_data="joined")

    async def disconnect(self, code):
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def bench_message(self, event):
        await self.send(text_data=event["text"])

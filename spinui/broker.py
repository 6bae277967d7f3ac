"""kombu's filesystem transport (the embedded broker), with messages written atomically.

kombu writes a message file in place; a worker polling the folder can move and read it
before its bytes are there, get an empty message, and stop with "Unrecoverable error". Here a
message is written under a name no reader picks up and renamed into the queue complete.
"""

import os
import time
import uuid

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: dict, **kwargs) -> None:
        # kombu's own name: readers take messages in the order of this millisecond prefix.
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        partial = os.path.join(self.data_folder_out, f".{uuid.uuid4()}.partial")
        with open(partial, "wb") as file:
            file.write(str_to_bytes(dumps(payload)))
        os.replace(partial, os.path.join(self.data_folder_out, name))


class Transport(filesystem.Transport):
    Channel = Channel

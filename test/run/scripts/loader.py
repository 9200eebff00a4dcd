# A DataLoader with two workers (torch), for test/run/children.test.ts; MODE "kill" makes worker 1
# die by SIGKILL in its third item (the main loop then fails, as torch does).
import os
import signal
import sys

import torch
from torch.utils.data import DataLoader, Dataset

torch.set_num_threads(1)


def features(i):
    return [float((i * 7 + k) % 13) for k in range(256)]


class Items(Dataset):
    def __len__(self):
        return 64

    def __getitem__(self, i):
        info = torch.utils.data.get_worker_info()
        if len(sys.argv) > 1 and sys.argv[1] == "kill" and info is not None and info.id == 1 and i >= 20:
            os.kill(os.getpid(), signal.SIGKILL)
        return torch.tensor(features(i))


if __name__ == "__main__":
    n = 0
    try:
        for batch in DataLoader(Items(), batch_size=8, num_workers=2):
            n += batch.shape[0]
    except RuntimeError as e:
        print("loader failed:", str(e).split("\n")[0])
    print("items", n)

# Five short steps in a scope, after nothing else: start-up is most of the run.
from inferscope import scope


def work(n):
    return sum(i * i for i in range(n))


for i in range(5):
    with scope("step"):
        work(20000)

import Foundation
import SoftmaxCommandLine

exit(SoftmaxCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
